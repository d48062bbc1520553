"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from migrations import sql_file

# Each feature table and the geometry that places it in an area.
FEATURE_TABLES = {
    "enterprise": "geom",
    "rental_property": "geom",
    "construction_site": "footprint",
    "patrol_zone": "boundary",
    "quarantine_site": "geom",
    "inspection": "geom",
}

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table(
        "area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_pinyin", sa.String(length=64), nullable=False),
        sa.Column(
            "level", sa.Enum("DISTRICT", "TOWN", "VILLAGE", name="area_level"), nullable=False
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column(
            "boundary",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("code ~ '^[0-9]{6,12}$'", name="area_code_digits"),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["area.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_area_boundary",
        "area",
        ["boundary"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_area_parent_id"), "area", ["parent_id"], unique=False)
    op.create_geospatial_table(
        "enterprise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "INDUSTRIAL",
                "COMMERCE_SERVICES",
                "LOGISTICS",
                "AGRICULTURAL_COOPERATIVE",
                "OTHER",
                name="enterprise_category",
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("staff_total", sa.Integer(), nullable=False),
        sa.Column("staff_returned", sa.Integer(), nullable=False),
        sa.Column("staff_out_of_province", sa.Integer(), nullable=False),
        sa.Column("hubei_staff_retained", sa.Integer(), nullable=False),
        sa.Column("capacity_pct", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column(
            "resumption",
            sa.Enum("NOT_RESUMED", "PARTIAL", "FULL", name="resumption_status"),
            nullable=False,
        ),
        sa.Column("problems", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "resumption_reported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("contact_name", sa.String(length=64), nullable=True),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("has_dormitory", sa.Boolean(), nullable=False),
        sa.Column("signboard_updated_on", sa.Date(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("capacity_pct BETWEEN 0 AND 100", name="enterprise_capacity_pct"),
        sa.CheckConstraint(
            "staff_total >= 0 AND staff_returned BETWEEN 0 AND staff_total AND staff_out_of_province BETWEEN 0 AND staff_total AND hubei_staff_retained BETWEEN 0 AND staff_total",
            name="enterprise_staff_counts",
        ),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credit_code"),
    )
    op.create_geospatial_index(
        "idx_enterprise_geom",
        "enterprise",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_enterprise_area_id"), "enterprise", ["area_id"], unique=False)
    op.create_geospatial_table(
        "patrol_zone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "boundary",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("team_name", sa.String(length=200), nullable=False),
        sa.Column("team_leader", sa.String(length=64), nullable=False),
        sa.Column(
            "base",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_patrol_zone_base",
        "patrol_zone",
        ["base"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_patrol_zone_boundary",
        "patrol_zone",
        ["boundary"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_patrol_zone_area_id"), "patrol_zone", ["area_id"], unique=False)
    op.create_geospatial_table(
        "quarantine_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("beds_total", sa.Integer(), nullable=False),
        sa.Column("beds_occupied", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("beds_occupied BETWEEN 0 AND beds_total", name="quarantine_beds"),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_quarantine_site_geom",
        "quarantine_site",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_quarantine_site_area_id"), "quarantine_site", ["area_id"], unique=False
    )
    op.create_geospatial_table(
        "rental_property",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("landlord_name", sa.String(length=64), nullable=True),
        sa.Column("landlord_phone", sa.String(length=20), nullable=True),
        sa.Column("filed", sa.Boolean(), nullable=False),
        sa.Column("filing_number", sa.String(length=32), nullable=True),
        sa.Column("tenants_total", sa.Integer(), nullable=False),
        sa.Column("tenants_out_of_province", sa.Integer(), nullable=False),
        sa.Column("tenants_home_observation", sa.Integer(), nullable=False),
        sa.Column("last_inspected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("filed = (filing_number IS NOT NULL)", name="rental_filing_number"),
        sa.CheckConstraint(
            "tenants_total >= 0 AND tenants_out_of_province BETWEEN 0 AND tenants_total AND tenants_home_observation BETWEEN 0 AND tenants_total",
            name="rental_tenant_counts",
        ),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_rental_property_geom",
        "rental_property",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_rental_property_area_id"), "rental_property", ["area_id"], unique=False
    )
    op.create_geospatial_table(
        "construction_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key_project", sa.Boolean(), nullable=False),
        sa.Column(
            "footprint",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "entrance",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("workers_total", sa.Integer(), nullable=False),
        sa.Column("workers_returned", sa.Integer(), nullable=False),
        sa.Column("workers_out_of_province", sa.Integer(), nullable=False),
        sa.Column(
            "resumption",
            sa.Enum("NOT_RESUMED", "PARTIAL", "FULL", name="resumption_status"),
            nullable=False,
        ),
        sa.Column("quarantine_site_id", sa.Integer(), nullable=True),
        sa.Column(
            "resumption_reported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "workers_total >= 0 AND workers_returned BETWEEN 0 AND workers_total AND workers_out_of_province BETWEEN 0 AND workers_total",
            name="site_worker_counts",
        ),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["quarantine_site_id"], ["quarantine_site.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_construction_site_entrance",
        "construction_site",
        ["entrance"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_construction_site_footprint",
        "construction_site",
        ["footprint"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_construction_site_area_id"), "construction_site", ["area_id"], unique=False
    )
    op.create_geospatial_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("rental_property_id", sa.Integer(), nullable=True),
        sa.Column("construction_site_id", sa.Integer(), nullable=True),
        sa.Column("inspector", sa.String(length=64), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "num_nonnulls(enterprise_id, rental_property_id, construction_site_id) = 1",
            name="inspection_one_target",
        ),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["construction_site_id"],
            ["construction_site.id"],
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rental_property_id"],
            ["rental_property.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_inspection_geom",
        "inspection",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_inspection_area_id"), "inspection", ["area_id"], unique=False)
    op.create_index(
        op.f("ix_inspection_construction_site_id"),
        "inspection",
        ["construction_site_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_inspection_enterprise_id"), "inspection", ["enterprise_id"], unique=False
    )
    op.create_index(
        op.f("ix_inspection_rental_property_id"), "inspection", ["rental_property_id"], unique=False
    )
    op.execute(sql_file("area.sql"))
    op.execute(sql_file("crs.sql"))
    for table, column in FEATURE_TABLES.items():
        # Any write of the geometry or of area_id itself re-derives it, so input cannot set it.
        op.execute(
            f"CREATE TRIGGER {table}_area BEFORE INSERT OR UPDATE OF {column}, area_id ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION fugong_derive_area()"
        )
    op.execute(
        "CREATE TRIGGER area_rederive AFTER INSERT OR UPDATE OF boundary, level OR DELETE ON area"
        " FOR EACH STATEMENT EXECUTE FUNCTION fugong_rederive_areas()"
    )


def downgrade() -> None:
    # Every fugong_* function is this revision's: the area triggers' and crs.sql's.
    op.execute(
        """DO $$DECLARE f regprocedure; BEGIN
             FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'fugong\\_%' LOOP
               EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
             END LOOP;
           END$$"""
    )
    op.drop_index(op.f("ix_inspection_rental_property_id"), table_name="inspection")
    op.drop_index(op.f("ix_inspection_enterprise_id"), table_name="inspection")
    op.drop_index(op.f("ix_inspection_construction_site_id"), table_name="inspection")
    op.drop_index(op.f("ix_inspection_area_id"), table_name="inspection")
    op.drop_geospatial_index(
        "idx_inspection_geom", table_name="inspection", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("inspection")
    op.drop_index(op.f("ix_construction_site_area_id"), table_name="construction_site")
    op.drop_geospatial_index(
        "idx_construction_site_footprint",
        table_name="construction_site",
        postgresql_using="gist",
        column_name="footprint",
    )
    op.drop_geospatial_index(
        "idx_construction_site_entrance",
        table_name="construction_site",
        postgresql_using="gist",
        column_name="entrance",
    )
    op.drop_geospatial_table("construction_site")
    op.drop_index(op.f("ix_rental_property_area_id"), table_name="rental_property")
    op.drop_geospatial_index(
        "idx_rental_property_geom",
        table_name="rental_property",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("rental_property")
    op.drop_index(op.f("ix_quarantine_site_area_id"), table_name="quarantine_site")
    op.drop_geospatial_index(
        "idx_quarantine_site_geom",
        table_name="quarantine_site",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("quarantine_site")
    op.drop_index(op.f("ix_patrol_zone_area_id"), table_name="patrol_zone")
    op.drop_geospatial_index(
        "idx_patrol_zone_boundary",
        table_name="patrol_zone",
        postgresql_using="gist",
        column_name="boundary",
    )
    op.drop_geospatial_index(
        "idx_patrol_zone_base",
        table_name="patrol_zone",
        postgresql_using="gist",
        column_name="base",
    )
    op.drop_geospatial_table("patrol_zone")
    op.drop_index(op.f("ix_enterprise_area_id"), table_name="enterprise")
    op.drop_geospatial_index(
        "idx_enterprise_geom", table_name="enterprise", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("enterprise")
    op.drop_index(op.f("ix_area_parent_id"), table_name="area")
    op.drop_geospatial_index(
        "idx_area_boundary", table_name="area", postgresql_using="gist", column_name="boundary"
    )
    op.drop_geospatial_table("area")
    op.execute("DROP TYPE area_level, enterprise_category, resumption_status")
