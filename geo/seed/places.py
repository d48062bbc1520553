"""The towns and villages of the demo Changle District: names are real, places made up.

Town centres sit roughly where each town government really is (inside the real outline,
outline.py); everything else is invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

DISTRICT_CODE = "350112"
DISTRICT_NAME = "长乐区"
DISTRICT_PINYIN = "Changle Qu"


class Character(Enum):
    """What a town's economy looks like, which decides the mix of enterprises in it."""

    URBAN = "urban"
    INDUSTRIAL = "industrial"
    RURAL = "rural"


@dataclass(frozen=True)
class Town:
    code: str
    name: str
    name_pinyin: str
    government: tuple[float, float]  # lon, lat: the Voronoi seed of the town and its patrol base
    character: Character
    enterprise_weight: float  # relative share of the district's enterprises
    rental_weight: float  # relative share of rented homes: where the workers live
    zones: int  # patrol zones (片区) the town is split into
    team: str  # how the town names its teams: PARTY or TASK


URBAN, INDUSTRIAL, RURAL = Character.URBAN, Character.INDUSTRIAL, Character.RURAL
PARTY, TASK = "党员服务队", "工作专班"

TOWNS: tuple[Town, ...] = (
    Town("350112001", "吴航街道", "Wuhang Jiedao", (119.525, 25.960), URBAN, 9, 12, 4, TASK),
    Town("350112002", "航城街道", "Hangcheng Jiedao", (119.552, 25.935), URBAN, 8, 10, 4, TASK),
    Town("350112003", "营前街道", "Yingqian Jiedao", (119.4915, 26.0059), URBAN, 5, 6, 3, TASK),
    Town("350112004", "漳港街道", "Zhanggang Jiedao", (119.640, 25.910), URBAN, 6, 7, 4, TASK),
    Town("350112101", "首占镇", "Shouzhan Zhen", (119.508, 25.992), INDUSTRIAL, 5, 5, 3, PARTY),
    Town("350112102", "玉田镇", "Yutian Zhen", (119.430, 25.940), RURAL, 3, 3, 4, PARTY),
    Town("350112103", "松下镇", "Songxia Zhen", (119.5994, 25.7091), INDUSTRIAL, 6, 6, 4, TASK),
    Town("350112104", "江田镇", "Jiangtian Zhen", (119.560, 25.780), INDUSTRIAL, 5, 4, 4, PARTY),
    Town("350112105", "古槐镇", "Guhuai Zhen", (119.520, 25.895), INDUSTRIAL, 7, 6, 4, PARTY),
    Town("350112106", "文武砂镇", "Wenwusha Zhen", (119.6176, 25.8403), INDUSTRIAL, 6, 5, 3, TASK),
    Town("350112107", "鹤上镇", "Heshang Zhen", (119.582, 25.965), INDUSTRIAL, 5, 5, 3, PARTY),
    Town("350112108", "湖南镇", "Hunan Zhen", (119.620, 25.995), RURAL, 4, 4, 4, TASK),
    Town("350112109", "金峰镇", "Jinfeng Zhen", (119.578, 25.872), INDUSTRIAL, 10, 11, 5, PARTY),
    Town("350112110", "文岭镇", "Wenling Zhen", (119.648, 25.962), RURAL, 3, 3, 3, PARTY),
    Town("350112111", "梅花镇", "Meihua Zhen", (119.655, 26.030), RURAL, 2, 2, 3, PARTY),
    Town("350112112", "潭头镇", "Tantou Zhen", (119.570, 26.018), RURAL, 4, 4, 4, PARTY),
    Town("350112201", "罗联乡", "Luolian Xiang", (119.422, 25.8703), RURAL, 1, 1, 3, PARTY),
    Town("350112202", "猴屿乡", "Houyu Xiang", (119.411, 25.9571), RURAL, 1, 1, 3, PARTY),
)  # fmt: skip


@dataclass(frozen=True)
class Village:
    town: str  # the town's name
    code: str
    name: str
    name_pinyin: str
    seed: tuple[float, float]  # lon, lat: the Voronoi seed of the village


# Villages are drawn for three towns only: those the report's stories happen in.
VILLAGES: tuple[Village, ...] = (
    Village("金峰镇", "350112109201", "华阳村", "Huayang Cun", (119.572, 25.878)),
    Village("金峰镇", "350112109202", "塔光村", "Taguang Cun", (119.596, 25.866)),
    Village("金峰镇", "350112109203", "陈塘村", "Chentang Cun", (119.560, 25.850)),
    Village("金峰镇", "350112109204", "六林村", "Liulin Cun", (119.590, 25.895)),
    Village("金峰镇", "350112109205", "洋屿村", "Yangyu Cun", (119.605, 25.840)),
    Village("古槐镇", "350112105201", "古槐村", "Guhuai Cun", (119.522, 25.898)),
    Village("古槐镇", "350112105202", "屿头村", "Yutou Cun", (119.498, 25.868)),
    Village("古槐镇", "350112105203", "青山村", "Qingshan Cun", (119.490, 25.905)),
    Village("古槐镇", "350112105204", "龙田村", "Longtian Cun", (119.540, 25.918)),
    Village("古槐镇", "350112105205", "感恩村", "Gan'en Cun", (119.535, 25.860)),
    Village("湖南镇", "350112108201", "湖南村", "Hunan Cun", (119.620, 25.997)),
    Village("湖南镇", "350112108202", "大宏村", "Dahong Cun", (119.605, 25.980)),
    Village("湖南镇", "350112108203", "渡桥村", "Duqiao Cun", (119.640, 26.005)),
    Village("湖南镇", "350112108204", "仙昙村", "Xiantan Cun", (119.610, 26.012)),
)

# Made-up village and community names for the addresses of towns without drawn villages.
PLACE_NAMES: tuple[str, ...] = (
    "东湖", "西林", "南岸", "北岭", "上洋", "下洋", "前街", "后埔", "新厝", "大路",
    "岭头", "洋坪", "沙堤", "塘边", "溪头", "山前", "坑口", "港头", "石梁", "鳌峰",
)  # fmt: skip
