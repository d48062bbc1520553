"""The summary chart, the printed briefing, the public signboard and its status page, through
the ASGI app: pictures decoded, PDFs rendered and read back by poppler, the QR code decoded by
zxing-cpp and followed. The README's pictures are written by this run (docs/)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import Connection, text

from api.settings import get_settings

DAY = "2020-02-27"
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def district(client, tokens):
    return {"Authorization": f"Bearer {tokens['district']}"}


def test_the_chart_is_a_1200_by_800_png(client, district):
    response = client.get(f"/briefing/350112/{DAY}.png", headers=district)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "private, max-age=60"
    picture = Image.open(io.BytesIO(response.content))
    picture.load()
    assert picture.format == "PNG" and picture.size == (1200, 800)
    DOCS.mkdir(exist_ok=True)
    (DOCS / "briefing-chart.png").write_bytes(response.content)


def test_the_chart_is_a_1200_by_800_svg(client, district):
    response = client.get(f"/briefing/350112109/{DAY}.svg", headers=district)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("1200", "800")
    assert root.get("viewBox") == "0 0 864 576"  # drawn in points, scaled to the pixels stated
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 100


def pdf_text(tmp_path: Path, pdf: bytes) -> str:
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    rendered = subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
        capture_output=True,
        check=True,
    )
    assert rendered.returncode == 0
    with Image.open(next(tmp_path.glob("p*.png"))) as page:
        assert page.size == (331, 468)  # A4 at 40 dpi
    out = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], capture_output=True, check=True, text=True
    )
    return out.stdout


def test_the_printed_briefing_has_a_page_per_village_with_the_numbers(
    client, district, gql, tmp_path
):
    response = client.get(f"/briefing/350112109/{DAY}.pdf", headers=district)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    words = pdf_text(tmp_path, response.content)
    body = gql.data(
        """{ dailyBriefing(areaCode: "350112109", date: "2020-02-27") {
        area { area { name } flagCounts { green yellow red } health { reported expected }
               inspections { due visited } }
        children { area { name } flagCounts { red } } } }"""
    )["dailyBriefing"]
    pages = words.split("\f")
    assert len([p for p in pages if p.strip()]) == 1 + len(body["children"])
    town = body["area"]
    assert f"{town['area']['name']} 每日汇总 {DAY}" in pages[0]
    for child, page in zip(body["children"], pages[1:], strict=False):
        assert child["area"]["name"] in pages[0] and child["area"]["name"] in page
    health = town["health"]
    assert f"{health['reported']}/{health['expected']}" in words
    inspections = town["inspections"]
    assert f"已查 {inspections['visited']} / 应查 {inspections['due']}" in pages[0]
    assert str(town["flagCounts"]["green"]) in pages[0]


@pytest.mark.parametrize(
    ("url", "who", "status", "code"),
    [
        (f"/briefing/350112/{DAY}.png", None, 401, "UNAUTHENTICATED"),
        (f"/briefing/350112/{DAY}.pdf", "town", 403, "FORBIDDEN"),
        (f"/briefing/350112105/{DAY}.svg", "town", 403, "FORBIDDEN"),
        (f"/briefing/350112109/{DAY}.png", "inspector", 403, "FORBIDDEN"),
        (f"/briefing/350112109/{DAY}.png", "enterprise", 403, "FORBIDDEN"),
        (f"/briefing/999999/{DAY}.png", "district", 404, "NOT_FOUND"),
        ("/briefing/350112/2020-02-30.png", "district", 400, "BAD_USER_INPUT"),
        ("/briefing/350112/2999-01-01.pdf", "district", 400, "BAD_USER_INPUT"),
        (f"/briefing/350112/{DAY}.gif", "district", 404, "NOT_FOUND"),
        ("/signboards/Enterprise:999999.pdf", None, 404, "NOT_FOUND"),
        ("/signboards/abc.png", None, 404, "NOT_FOUND"),
        ("/signboards/1.jpg", None, 404, "NOT_FOUND"),
        ("/status/999999", None, 404, "NOT_FOUND"),
    ],
)
def test_doors_answer_coded_json_errors(client, tokens, url, who, status, code):
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    response = client.get(url, headers=headers)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code


def test_a_town_officer_prints_their_own_town(client, tokens):
    headers = {"Authorization": f"Bearer {tokens['town']}"}
    assert client.get(f"/briefing/350112109/{DAY}.png", headers=headers).status_code == 200


def board_enterprise(db: Connection) -> tuple[int, str, str]:
    return db.execute(  # type: ignore[return-value]
        text(
            "SELECT id, name, contact_phone FROM enterprise WHERE contact_phone IS NOT NULL"
            " AND signboard_updated_on IS NOT NULL ORDER BY id LIMIT 1"
        )
    ).one()


def test_the_signboard_qr_code_opens_the_status_page(client, db):
    enterprise_id, name, phone = board_enterprise(db)
    response = client.get(f"/signboards/{enterprise_id}.png")  # anonymous: the board is public
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    board = Image.open(io.BytesIO(response.content))
    assert board.size == (827, 1170)  # A4 at 100 dpi
    codes = zxingcpp.read_barcodes(board)
    assert [c.format for c in codes] == [zxingcpp.BarcodeFormat.QRCode]
    url = codes[0].text
    assert url == f"{get_settings().public_url}/status/{enterprise_id}"
    page = client.get(urlsplit(url).path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert name in page.text and f"{phone[:3]}****{phone[-4:]}" in page.text
    assert phone not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]
    DOCS.mkdir(exist_ok=True)
    (DOCS / "signboard.png").write_bytes(response.content)


def test_the_signboard_pdf_shows_what_the_public_sees(client, db, tokens, tmp_path):
    enterprise_id, name, phone = board_enterprise(db)
    # Whoever prints it, a town officer who may see the phone in full included, it is public.
    headers = {"Authorization": f"Bearer {tokens['town']}"}
    response = client.get(f"/signboards/Enterprise:{enterprise_id}.pdf", headers=headers)
    assert response.status_code == 200
    words = pdf_text(tmp_path, response.content)
    color, returned, total, updated = db.execute(
        text(
            "SELECT flag_color, staff_returned, staff_total, signboard_updated_on FROM enterprise"
            " WHERE id = :e"
        ),
        {"e": enterprise_id},
    ).one()
    assert name in words
    assert {"GREEN": "绿旗", "YELLOW": "黄旗", "RED": "红旗"}[color] in words
    assert f"员工返岗 {returned} / {total} 人" in words
    assert f"{phone[:3]}****{phone[-4:]}" in words and phone not in words
    assert f"更新日期 {updated.isoformat()}" in words
    assert db.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0
