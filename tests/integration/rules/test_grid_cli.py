# SPDX-License-Identifier: GPL-2.0-or-later
"""alarmgw grid import / locate on the fixture layer: atomic versioned import, errors naming the
feature, the documented boundary rule, holes and multipolygons, coordinate system conversion."""
import json
import os
import shutil

import agwtest
from agwtest import alarmgw, check

FIX = os.path.join(agwtest.SOURCE, "tests", "fixtures", "grid")
work = agwtest.tempdir("agw-grid-")
db = os.path.join(work, "gw.sqlite")


def locate(lon, lat, *extra, layer="cells"):
    rc, out, err = alarmgw("grid", "locate", "--db", db, "--layer", layer, *extra, str(lon), str(lat))
    if rc != 0:
        print(err)
        return None
    return json.loads(out)


def code_at(lon, lat, *extra, layer="cells"):
    r = locate(lon, lat, *extra, layer=layer)
    return r and r.get("code")


def layer_state(layer="cells"):
    v = agwtest.sql(db, "SELECT version, crs, cells FROM grid_layers WHERE name = ?", (layer,))
    n = agwtest.sql(db, "SELECT count(*) FROM grid_cells WHERE layer = ?", (layer,))[0][0]
    return (v[0] if v else None), n


try:
    rc, out, err = alarmgw("grid", "import", "--db", db, "--layer", "cells", os.path.join(FIX, "cells.geojson"))
    check(rc == 0 and "imported 4 cells" in out and "version 1" in out, f"import: {out.strip()} {err.strip()}")
    check(layer_state() == ((1, "wgs84", 4), 4), f"layer version 1, 4 cells: {layer_state()}")
    rc, out, err = alarmgw("grid", "import", "--db", db, "--layer", "cells", os.path.join(FIX, "cells.geojson"))
    check(rc == 0 and layer_state() == ((2, "wgs84", 4), 4), f"re-import bumps the version: {layer_state()}")

    for name, feature, words in [("bad_unclosed.geojson", 1, "not closed"), ("bad_nocode.geojson", 2, "code"),
                                 ("bad_hole.geojson", 0, "outside the shell")]:
        rc, out, err = alarmgw("grid", "import", "--db", db, "--layer", "cells", os.path.join(FIX, name))
        check(rc == 1 and f"feature {feature}" in err and words in err, f"{name}: exit 1 naming feature {feature}: "
              f"{err.strip().splitlines()[0] if err.strip() else ''}")
        check(layer_state() == ((2, "wgs84", 4), 4), f"{name}: layer unchanged {layer_state()}")

    r = locate(116.41, 39.91)
    check(r == {"code": "110105001001001", "name": "Grid 1 (with courtyard hole)",
                "path": ["110105", "110105001", "110105001001", "110105001001001"]}, f"inside grid 1: {r}")
    check(code_at(116.425, 39.925) == "110105001001003", "in the hole of grid 1: the courtyard cell")
    check(code_at(116.45, 39.92) == "110105001001002", "on the shared north-south edge: the cell to the east")
    check(code_at(116.42, 39.95) == "110105002001001", "on the shared east-west edge: the cell to the north")
    check(code_at(116.45, 39.95) == "110105002001001" or code_at(116.45, 39.95) is None,
          "on a shared vertex: the north-east cell (none there), else nothing")
    check(code_at(116.43, 39.93) == "110105001001001", "on the courtyard's north-east corner: grid 1 (outside the hole)")
    check(code_at(116.52, 39.92) == "110105002001001", "second part of the multipolygon")
    check(locate(116.60, 39.92) == {"code": None}, "outside every cell: {\"code\": null}")
    check(locate(-73.9, 40.7) == {"code": None}, "a negative longitude is an operand, not an option")
    # GCJ-02 point on a WGS-84 layer: converted first (Beijing offset ~600 m west-south-west back)
    check(code_at(116.452, 39.92) == "110105001001002", "116.452 as WGS-84: grid 2")
    check(code_at(116.452, 39.92, "--crs", "gcj02") == "110105001001001", "116.452 as GCJ-02: back to grid 1")
    rc, out, err = alarmgw("grid", "locate", "--db", db, "--layer", "cells", "116.4", "95")
    check(rc == 2, "a latitude out of range is a usage error")
    rc, out, err = alarmgw("grid", "locate", "--db", db, "--layer", "nope", "116.4", "39.9")
    check(rc == 1 and "never imported" in err, "an unknown layer is an error")

    # a GCJ-02 layer: WGS-84 points are converted to it
    rc, out, err = alarmgw("grid", "import", "--db", db, "--layer", "gcj", "--crs", "gcj02",
                           os.path.join(FIX, "cells.geojson"))
    check(rc == 0 and layer_state("gcj")[0][1] == "gcj02", "import with --crs gcj02 records the layer's system")
    check(code_at(116.446, 39.919, layer="gcj") == "110105001001002", "WGS-84 116.446 lands east of 116.45 in GCJ-02")

    # with a configuration file: its grid_layer is the default layer
    conf = os.path.join(work, "gw.conf")
    with open(conf, "w") as f:
        f.write(f'gateway = {{ id = "gw-it"; state_dir = "{work}"; db = "gw.sqlite"; }};\n'
                'rules = { grid_layer = "cells"; };\n')
    rc, out, err = alarmgw("grid", "locate", "-c", conf, "116.41", "39.91")
    check(rc == 0 and json.loads(out)["code"] == "110105001001001", f"-c FILE uses rules.grid_layer: {out.strip()}")
finally:
    shutil.rmtree(work, ignore_errors=True)
agwtest.finish()
