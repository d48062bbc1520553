"""The one place that names spatial reference systems."""

STORAGE_SRID = 4326  # WGS84 longitude/latitude: every stored geometry
WEB_MERCATOR_SRID = 3857
CGCS2000_SRID = 4490
GEOJSON_DECIMALS = 7  # ~1 cm at Changle's latitude; RFC 7946 advises no more
