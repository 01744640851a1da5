#!/usr/bin/env python3
"""
test/calib/citygen.py -- seeded synthetic city for calibrating the
spoofed-location scorer (issue 5).  Python 3 standard library only.

It simulates a field force for a number of days and writes what the
phones would have uploaded, plus the ground truth of every check-in:

  DIR/setup.json     sites (customers: ref, name, pin), workers, devices
                     (uid, platform, model, flags shared_pool /
                     external_gnss) and the full binding history of every
                     device (pool-phone shifts, buddy check-ins)
  DIR/batches.jsonl  one upload per line in upload (server) order:
                     {"at": ISO time, "device_uid", "day", "sent_at": the
                     phone's clock when it sent (ms), "fixes": [...]}
                     where every fix is an element of fieldops.ingest_fixes()
                     (check-in fixes also carry "customer_ref": the loader
                     turns it into "customer_id" when ingest accepts that key)
  DIR/checkins.csv   one row per check-in: device_uid, recorded_at_ms,
                     worker_ref, site_ref, label, is_attack, day, split, ...

The world is physics first (see README.md for the full model):

  * a city on WGS-84 (Shanghai by default) with a density field that makes
    street canyons in the centres, urban, suburban and rural rings;
  * Wi-Fi access points on a hashed grid (dense downtown, sparse outside),
    at every site, on streets; RSSI = P0 - 10 n log10(d) - walls +
    static shadowing (location-dependent) + fast fading, heard above
    about -90 dBm; globally administered BSSIDs from real-looking OUIs,
    dual-band APs with two BSSIDs; phone hotspots with locally
    administered MACs, bus Wi-Fi moving along lines;
  * cellular layers per operator (MCC 460; MNC 0, 1, 11): towers on a
    Poisson field whose density follows the city (a few hundred metres
    apart downtown, several km in the countryside), three sectors, the
    3GPP-style path loss, shadowing; the serving cell is the strongest;
  * GNSS: a correlated (AR(1)) position error whose sigma grows in street
    canyons and indoors, accuracy reported consistent with it, altitude
    noise, Doppler speed and bearing from the true motion, satellites and
    C/N0 by environment; network (Wi-Fi/cell) fixes indoors;
  * phones: clock skew (small constant per phone, rare jumps), upload
    queues (every few minutes, immediately for a check-in, late and out of
    order after an offline period), Wi-Fi scan caching, client IPs
    (carrier pools on mobile data, the premises' line on Wi-Fi),
    app-integrity verdicts where the phone has them.

Workers are genuine, some days carry hard negatives (multipath jump, cold
first fix, replaced access point, hotspot / bus Wi-Fi, large rural cells,
a train or a flight, a shared pool phone, an external RTK receiver that
sets the mock flag, offline queues), and some workers attack (static mock
app, joystick / route mock, teleport round trip, replay of an earlier
genuine trace, emulator, hooked phone replaying the site's recorded Wi-Fi
and cells, buddy check-in on a colleague's device).  An attacker's phone
is physically somewhere else (home or a cafe): its own Wi-Fi, cells and IP
are from there unless the attack replays them.

Nothing here knows about the scorer: there is no signal code in this file.
Everything is drawn from random.Random instances seeded from (--seed, what,
ids) and from a seeded integer hash, so a seed and an end date give the
same files byte for byte.
"""
import argparse
import bisect
import csv
import datetime as dt
import json
import math
import os
import random
import statistics
import sys

# ---------------------------------------------------------------------------
# deterministic helpers
# ---------------------------------------------------------------------------

MASK64 = (1 << 64) - 1
EARTH_R = 6371008.8


def _normal_table(n=4096):
    """Quantiles of the standard normal at (i + 0.5) / n: a hashed index into
    it is a fast, deterministic Gaussian for static noise fields."""
    nd = statistics.NormalDist()
    return [nd.inv_cdf((i + 0.5) / n) for i in range(n)]


_NQ = _normal_table()


def hkey(*parts):
    """Hash a tuple of integers to 64 bits.  CPython's tuple hash of ints
    does not depend on PYTHONHASHSEED (only str and bytes hashes are
    randomised), and a multiply-xorshift spreads it, so static noise fields
    (shadowing, AP placement) need no stored state and are the same in
    every run of the same Python."""
    h = (hash(parts) * 0x9E3779B97F4A7C15) & MASK64
    return h ^ (h >> 29)


def hu(*parts):
    """Uniform [0, 1) from a hash: the same inputs give the same value."""
    return (hkey(*parts) >> 11) / 9007199254740992.0


def hn(*parts):
    """Standard normal from a hash (a quantile-table lookup)."""
    return _NQ[hkey(*parts) >> 52]


def gz(rng):
    """A fast standard normal draw from a Random (quantile table, 12 bits):
    for the many per-scan fading terms, where rng.gauss() would dominate."""
    return _NQ[rng.getrandbits(12)]


def rng_for(seed, *what):
    """A Random seeded from the run seed and a purpose: every entity gets its
    own stream, so adding a worker does not change another worker's days."""
    return random.Random("calib:%s:%s" % (seed, ":".join(str(w) for w in what)))


def poisson(rng, lam):
    """Poisson draw (Knuth for small means, normal approximation above)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# ---------------------------------------------------------------------------
# the worlds
# ---------------------------------------------------------------------------

# Density centres are (east m, north m, scale m, peak) in the city's frame.
WORLDS = {
    "default": {
        "city": ("Shanghai", 31.2304, 121.4737),
        "centres": [(0, 0, 5000, 1.0), (4500, -800, 2500, 0.9), (-6500, -5500, 3000, 0.55),
                    (-9000, 6000, 3500, 0.45)],
        "extent_m": 17000,
        "sites": 220,
        "site_rural_share": 0.06,
        "ap_per_cell": {"canyon": 10.0, "urban": 5.0, "suburban": 1.6, "rural": 0.08},
        "street_ap_per_cell": {"canyon": 3.0, "urban": 1.5, "suburban": 0.5, "rural": 0.02},
        "tower_spacing": {"canyon": 380, "urban": 550, "suburban": 1600, "rural": 5500},
        "ios_share": 0.22, "harmony_share": 0.20, "gms_share": 0.45,
        "bus_lines": 24, "npc_hotspots": 260,
        "street_angle_deg": 8.0,
    },
    # Another city and other densities: fewer, sparser sites and access
    # points, larger cells, more iPhones.  The scorer must not have learned
    # the default city's numbers.
    "shifted": {
        "city": ("Hangzhou", 30.2741, 120.1551),
        "centres": [(0, 0, 4000, 0.85), (7000, 3000, 3000, 0.6), (-5000, -6000, 3500, 0.4)],
        "extent_m": 20000,
        "sites": 200,
        "site_rural_share": 0.15,
        "ap_per_cell": {"canyon": 4.0, "urban": 2.0, "suburban": 0.7, "rural": 0.04},
        "street_ap_per_cell": {"canyon": 1.2, "urban": 0.6, "suburban": 0.2, "rural": 0.01},
        "tower_spacing": {"canyon": 550, "urban": 800, "suburban": 2400, "rural": 8000},
        "ios_share": 0.35, "harmony_share": 0.15, "gms_share": 0.30,
        "bus_lines": 12, "npc_hotspots": 150,
        "street_angle_deg": -21.0,
    },
}

# Other cities reached by train or plane (hard negative "train_flight").
REMOTE = [
    # name, centre lat, lon, station/airport lat, lon, kind, trip seconds
    ("Nanjing", 32.0415, 118.7781, 31.9703, 118.7975, "train", 3900),
    ("Beijing", 39.9087, 116.3975, 40.0799, 116.6031, "flight", 8100),
]
HOME_STATION = {"default": (31.1946, 121.3200, 31.1443, 121.8083),   # Hongqiao rail, Pudong airport
                "shifted": (30.2906, 120.2124, 30.2295, 120.4344)}   # Hangzhou East, Xiaoshan airport

ENV_ORDER = ("canyon", "urban", "suburban", "rural")

# Real-looking OUIs (second hex digit 0/4/8/c: globally administered, unicast)
AP_OUIS = ["50:c7:bf", "14:cf:92", "f4:f2:6d", "d8:07:b6", "00:e0:fc", "48:46:fb", "ac:85:3d",
           "70:72:3c", "64:09:80", "28:6c:07", "8c:be:be", "00:0f:e2", "38:97:d6", "c8:3a:35",
           "d0:76:e7", "00:19:c6", "34:4b:50", "00:74:9c", "58:69:6c", "80:8f:1d", "b0:95:8e",
           "e4:f4:c6", "cc:08:fb", "44:59:e3"]
BUS_OUIS = ["00:1e:42", "88:7e:25", "a4:2b:b0"]
EMULATOR_BSSID = "00:13:10:85:fe:01"     # the emulator's virtual "AndroidWifi" access point

PHONE_MODELS = {
    "android": ["Xiaomi 14", "Redmi Note 13", "OPPO Reno11", "vivo X100", "OnePlus 12", "Honor 90",
                "Samsung Galaxy S23", "realme GT5"],
    "harmonyos": ["HUAWEI Mate 60", "HUAWEI P60", "HUAWEI nova 12"],
    "ios": ["iPhone 13", "iPhone 14", "iPhone 15", "iPhone 15 Pro", "iPhone 12"],
}

OPERATORS = (0, 1, 11)                   # China Mobile, Unicom, Telecom (MCC 460)
CARRIER_NETS = {0: [(117, 136), (223, 104), (112, 10)], 1: [(112, 97), (123, 150)],
                11: [(101, 224), (58, 246)]}
BROADBAND_NETS = [(180, 160), (101, 80), (116, 226), (114, 85), (218, 80)]


class Frame:
    """A local east/north plane (metres) around a city centre.  Distances in
    a city are a few tens of km, where the equirectangular mapping is exact
    to well under a metre per km, far below every error modelled here."""

    def __init__(self, lat0, lon0):
        self.lat0, self.lon0 = lat0, lon0
        self.ky = 180.0 / (math.pi * EARTH_R)
        self.kx = self.ky / math.cos(math.radians(lat0))

    def ll(self, x, y):
        return self.lat0 + y * self.ky, self.lon0 + x * self.kx

    def xy(self, lat, lon):
        return (lon - self.lon0) / self.kx, (lat - self.lat0) / self.ky


class City:
    """One city: its frame, density field and street orientation."""

    def __init__(self, idx, name, lat0, lon0, centres, extent, angle_deg):
        self.idx, self.name = idx, name
        self.frame = Frame(lat0, lon0)
        self.centres = centres
        self.extent = extent
        self.angle = math.radians(angle_deg)

    def density(self, x, y):
        d = 0.0
        for cx, cy, sc, pk in self.centres:
            r = math.hypot(x - cx, y - cy)
            d = max(d, pk * math.exp(-r / sc))
        return d

    def env(self, x, y):
        d = self.density(x, y)
        if d > 0.55:
            return "canyon"
        if d > 0.25:
            return "urban"
        if d > 0.07:
            return "suburban"
        return "rural"


# ---------------------------------------------------------------------------
# radio: Wi-Fi and cells
# ---------------------------------------------------------------------------

def mac_from(oui, h):
    return "%s:%02x:%02x:%02x" % (oui, (h >> 16) & 255, (h >> 8) & 255, h & 255)


def local_mac(h):
    """A locally administered unicast MAC (second hex digit 2, 6, a or e),
    as phones use for hotspots and randomised addresses."""
    b0 = ((h >> 40) & 0xFC) | 0x02
    return "%02x:%02x:%02x:%02x:%02x:%02x" % (b0, (h >> 32) & 255, (h >> 24) & 255, (h >> 16) & 255,
                                             (h >> 8) & 255, h & 255)


class AP:
    """A physical access point: one or two BSSIDs (2.4 and 5 GHz radios)."""
    __slots__ = ("uid", "x", "y", "kind", "p0", "wall", "wall2", "bssids", "site")

    def __init__(self, uid, x, y, kind, p0, wall, wall2, bssids, site=None):
        self.uid, self.x, self.y, self.kind = uid, x, y, kind
        self.p0, self.wall, self.wall2, self.bssids, self.site = p0, wall, wall2, bssids, site


def make_ap(seed, uid, x, y, kind, site=None):
    """Transmit power, wall losses and BSSIDs drawn from the AP's hash."""
    h = hkey(seed, 77, uid)
    oui = AP_OUIS[h % len(AP_OUIS)]
    base = mac_from(oui, hkey(seed, 78, uid))
    p0 = -36.0 + 4.0 * hn(seed, 79, uid)                 # RSSI at 1 m
    wall = 6.0 + 8.0 * hu(seed, 80, uid)                 # first wall
    wall2 = 4.0 + 6.0 * hu(seed, 81, uid)                # a second wall into another room
    bssids = [(base, 0.0, 0.0)]
    if hu(seed, 82, uid) < 0.6:                          # dual band: 5 GHz is weaker, fades faster
        last = int(base[-2:], 16)
        bssids.append((base[:-2] + "%02x" % ((last + 1) & 255), -5.0, 0.35))
    return AP(uid, x, y, kind, p0, wall, wall2, tuple(bssids), site)


class Radio:
    """The radio environment of the world: static APs on hashed grids, site
    APs (with replacements), mobile APs and cell layers."""

    AP_CELL = 50.0          # indoor APs: 50 m grid, searched 3x3
    STREET_CELL = 150.0     # street APs: 150 m grid, searched 3x3
    TOWER_CELL = 1000.0

    def __init__(self, seed, params, cities):
        self.seed = seed
        self.p = params
        self.cities = cities
        self._ap_cache = {}
        self._street_cache = {}
        self._tower_cache = {}
        self.site_grid = {}          # (city, cx, cy) -> [site]
        self.buses = []
        self.npcs = []
        self.npc_grid = {}

    # -- static APs ----------------------------------------------------------
    def _cell_aps(self, city, cx, cy):
        key = (city.idx, cx, cy)
        aps = self._ap_cache.get(key)
        if aps is None:
            x0, y0 = cx * self.AP_CELL, cy * self.AP_CELL
            env = city.env(x0 + 25, y0 + 25)
            lam = self.p["ap_per_cell"][env] if city.idx == 0 else WORLDS["default"]["ap_per_cell"][env]
            r = random.Random(hkey(self.seed, 11, city.idx, cx, cy))
            aps = []
            for k in range(poisson(r, lam)):
                uid = hkey(self.seed, 12, city.idx, cx, cy, k)
                aps.append(make_ap(self.seed, uid, x0 + r.random() * self.AP_CELL,
                                   y0 + r.random() * self.AP_CELL, 0))
            self._ap_cache[key] = aps
        return aps

    def _street_aps(self, city, cx, cy):
        key = (city.idx, cx, cy)
        aps = self._street_cache.get(key)
        if aps is None:
            x0, y0 = cx * self.STREET_CELL, cy * self.STREET_CELL
            env = city.env(x0 + 75, y0 + 75)
            lam = (self.p["street_ap_per_cell"][env] if city.idx == 0
                   else WORLDS["default"]["street_ap_per_cell"][env]) * 9.0
            r = random.Random(hkey(self.seed, 13, city.idx, cx, cy))
            aps = []
            for k in range(poisson(r, lam)):
                uid = hkey(self.seed, 14, city.idx, cx, cy, k)
                aps.append(make_ap(self.seed, uid, x0 + r.random() * self.STREET_CELL,
                                   y0 + r.random() * self.STREET_CELL, 1))
            self._street_cache[key] = aps
        return aps

    def add_site(self, site):
        key = (site["city"], int(math.floor(site["x"] / self.AP_CELL)), int(math.floor(site["y"] / self.AP_CELL)))
        self.site_grid.setdefault(key, []).append(site)

    def site_aps_now(self, site, day):
        if site["replaced_day"] is not None and day >= site["replaced_day"]:
            return site["new_aps"]
        return site["aps"]

    # -- mobile APs -------------------------------------------------------------
    def build_mobile(self, rng, city, sites):
        """Bus Wi-Fi on straight lines through the city and phone hotspots of
        people who move between a home and a workplace every day."""
        for i in range(self.p["bus_lines"]):
            ang = rng.uniform(0, math.pi)
            c = rng.choice(sites)
            half = rng.uniform(3000, 7000)
            ax, ay = c["x"] - half * math.cos(ang), c["y"] - half * math.sin(ang)
            bx, by = c["x"] + half * math.cos(ang), c["y"] + half * math.sin(ang)
            for k in range(4):
                uid = hkey(self.seed, 21, i, k)
                mac = mac_from(BUS_OUIS[uid % len(BUS_OUIS)], hkey(self.seed, 22, i, k))
                self.buses.append({"uid": uid, "mac": mac, "a": (ax, ay), "b": (bx, by), "len": 2 * half,
                                   "speed": rng.uniform(5.0, 8.0), "phase": rng.uniform(0, 1),
                                   "bbox": (min(ax, bx) - 300, min(ay, by) - 300, max(ax, bx) + 300,
                                            max(ay, by) + 300)})
        for i in range(self.p["npc_hotspots"]):
            home = (rng.uniform(-12000, 12000), rng.uniform(-12000, 12000))
            if rng.random() < 0.5:
                s = rng.choice(sites)
                work = (s["x"] + rng.uniform(-10, 10), s["y"] + rng.uniform(-10, 10))
            else:
                work = (rng.uniform(-9000, 9000), rng.uniform(-9000, 9000))
            uid = hkey(self.seed, 23, i)
            npc = {"uid": uid, "mac": local_mac(hkey(self.seed, 24, i)), "home": home, "work": work}
            self.npcs.append(npc)
            for pos in (home, work):
                key = (int(pos[0] // 200), int(pos[1] // 200))
                self.npc_grid.setdefault(key, []).append(npc)

    def bus_pos(self, bus, t):
        per = 2 * bus["len"] / bus["speed"]
        f = ((t / per) + bus["phase"]) % 1.0
        s = 2 * f if f < 0.5 else 2 - 2 * f
        (ax, ay), (bx, by) = bus["a"], bus["b"]
        return ax + s * (bx - ax), ay + s * (by - ay)

    def npc_pos(self, npc, t_local_h, day):
        """Where a hotspot is at a local hour, and whether it is switched on
        (a third of the hours, drawn per person, day and hour)."""
        if hu(self.seed, 25, npc["uid"], day, int(t_local_h)) > 0.33:
            return None
        return npc["work"] if 9.0 <= t_local_h < 18.0 else npc["home"]

    def mobile_near(self, city, x, y, t, t_local_h, day):
        out = []
        if city.idx != 0:
            return out
        for bus in self.buses:
            b = bus["bbox"]
            if b[0] <= x <= b[2] and b[1] <= y <= b[3]:
                bx, by = self.bus_pos(bus, t)
                d = math.hypot(bx - x, by - y)
                if d < 120:
                    out.append((bus["mac"], d, 1, bus["uid"]))
        gx, gy = int(x // 200), int(y // 200)
        for i in (-1, 0, 1):
            for j in (-1, 0, 1):
                for npc in self.npc_grid.get((gx + i, gy + j), ()):
                    pos = self.npc_pos(npc, t_local_h, day)
                    if pos is None:
                        continue
                    d = math.hypot(pos[0] - x, pos[1] - y)
                    if d < 60:
                        out.append((npc["mac"], d, 0, npc["uid"]))
        return out

    # -- the scan ------------------------------------------------------------------
    def scan(self, rng, city, x, y, indoor, site, day, t, t_local_h, kmax, forced=None, extra=None):
        """A Wi-Fi scan at true position (x, y): every BSSID whose RSSI,
        log-distance path loss plus walls plus shadowing plus fading, clears
        the detection threshold; strongest first, at most kmax."""
        cands = []
        cx, cy = int(math.floor(x / self.AP_CELL)), int(math.floor(y / self.AP_CELL))
        for i in (-1, 0, 1):
            for j in (-1, 0, 1):
                for ap in self._cell_aps(city, cx + i, cy + j):
                    cands.append(ap)
                for s in self.site_grid.get((city.idx, cx + i, cy + j), ()):
                    cands.extend(self.site_aps_now(s, day))
        sx, sy = int(math.floor(x / self.STREET_CELL)), int(math.floor(y / self.STREET_CELL))
        for i in (-1, 0, 1):
            for j in (-1, 0, 1):
                cands.extend(self._street_aps(city, sx + i, sy + j))
        gx, gy = int(x // 8), int(y // 8)
        out = {}
        seed = self.seed
        sid = site["id"] if (site is not None and indoor) else -1
        log10 = math.log10
        for ap in cands:
            dx, dy = ap.x - x, ap.y - y
            d2 = dx * dx + dy * dy
            if ap.kind == 1:                         # street AP
                if d2 > 40000:
                    continue
                n, loss = 2.3, (10.0 if indoor else 0.0)
            elif ap.site == sid:
                n, loss = 2.8, 0.0                   # the phone is in the same premises
            else:
                if d2 > 6400:
                    continue
                n, loss = 2.8, ap.wall + (ap.wall2 if indoor else 0.0)
            ld = 0.5 * log10(d2) if d2 > 1 else 0.0
            base = ap.p0 - loss - 10.0 * n * ld
            if base < -112.0:                        # not even +4 sigma of shadowing reaches -90
                continue
            base += 5.0 * hn(seed, 31, ap.uid, gx, gy)
            if base < -99.0:                         # nor 3.5 sigma of fading
                continue
            for mac, dp, dn in ap.bssids:
                rssi = base + dp - 10.0 * dn * ld + 2.5 * gz(rng)
                if rssi < -90.0 or rng.random() < 0.05:
                    continue
                out[mac] = rssi
        mob = self.mobile_near(city, x, y, t, t_local_h, day)
        if forced is not None:
            mob.append(forced)
        for mac, d, kind, uid in mob:
            rssi = -38.0 - (0 if kind == 1 or not indoor else 6.0) - 22.0 * math.log10(max(d, 1.0)) \
                + 4.0 * hn(seed, 32, uid, gx, gy) + rng.gauss(0, 2.5)
            if rssi >= -90.0:
                out[mac] = rssi
        env = city.env(x, y)
        p_transient = {"canyon": 0.35, "urban": 0.25, "suburban": 0.12, "rural": 0.03}[env]
        if rng.random() < p_transient:           # someone's randomised hotspot, never seen again
            out[local_mac(rng.getrandbits(48))] = rng.uniform(-88, -60)
        if extra:
            out.update(extra)
        items = sorted(out.items(), key=lambda kv: -kv[1])[:kmax]
        return [(mac, int(round(max(-127.0, min(-1.0, r))))) for mac, r in items]

    # -- cells -----------------------------------------------------------------------
    def spacing(self, city, env):
        if city.idx == 0:
            return self.p["tower_spacing"][env]
        return WORLDS["default"]["tower_spacing"][env]

    def _towers(self, city, op, cx, cy):
        key = (city.idx, op, cx, cy)
        tw = self._tower_cache.get(key)
        if tw is None:
            x0, y0 = cx * self.TOWER_CELL, cy * self.TOWER_CELL
            env = city.env(x0 + 500, y0 + 500)
            lam = (self.TOWER_CELL / self.spacing(city, env)) ** 2
            r = random.Random(hkey(self.seed, 41, city.idx, op, cx, cy))
            tw = []
            for k in range(poisson(r, lam)):
                h = hkey(self.seed, 42, city.idx, op, cx, cy, k)
                x, y = x0 + r.random() * self.TOWER_CELL, y0 + r.random() * self.TOWER_CELL
                tac = 0x1800 + (hkey(self.seed, 43, city.idx, op, int(x // 5000), int(y // 5000)) % 6000)
                tw.append((x, y, 20000 + h % 900000, r.uniform(0, 120.0), tac, env == "rural", h))
            self._tower_cache[key] = tw
        return tw

    def cells(self, rng, city, x, y, indoor, op, nr_capable, kmax=4):
        """Serving cell (the strongest RSRP) and up to kmax-1 neighbours:
        3GPP-style path loss (a milder one in the countryside), a 3-sector
        antenna pattern, building penetration, static shadowing."""
        env = city.env(x, y)
        sp = self.spacing(city, env)
        reach = max(1, int(math.ceil(1.6 * sp / self.TOWER_CELL)))
        dmax = 3.0 * sp
        cx, cy = int(math.floor(x / self.TOWER_CELL)), int(math.floor(y / self.TOWER_CELL))
        gx, gy = int(x // 50), int(y // 50)
        seed = self.seed
        best = []
        for i in range(-reach, reach + 1):
            for j in range(-reach, reach + 1):
                for (tx, ty, enb, az0, tac, rural, h) in self._towers(city, op, cx + i, cy + j):
                    d = math.hypot(tx - x, ty - y)
                    if d > dmax:
                        continue
                    dkm = max(d, 30.0) / 1000.0
                    pl = (120.0 + 35.0 * math.log10(dkm)) if rural else (128.1 + 37.6 * math.log10(dkm))
                    ang = math.degrees(math.atan2(x - tx, y - ty)) % 360.0
                    # the sector facing the phone, and the angle off its boresight
                    sector = int(((ang - az0) % 360.0) // 120.0)
                    off = abs((ang - (az0 + 120.0 * sector + 60.0) + 180.0) % 360.0 - 180.0)
                    gain = -min(12.0 * (off / 65.0) ** 2, 20.0)
                    rsrp = 30.0 - pl + gain - (15.0 if indoor else 0.0) + 7.0 * hn(seed, 44, h, sector, gx, gy) \
                        + 2.0 * gz(rng)
                    if rsrp >= -124.0:
                        best.append((rsrp, enb, sector, tac, tx, ty))
        best.sort(reverse=True)
        out = []
        for k, (rsrp, enb, sector, tac, tx, ty) in enumerate(best[:kmax]):
            if nr_capable and env in ("canyon", "urban"):
                radio, cid = "nr", enb * 4096 + sector + 1
            else:
                radio, cid = "lte", enb * 256 + sector + 1
            out.append({"mcc": 460, "mnc": op, "lac": tac, "cid": cid, "signal_dbm": int(round(max(-140.0, rsrp))),
                        "serving": k == 0, "radio": radio})
        return out


# ---------------------------------------------------------------------------
# movement
# ---------------------------------------------------------------------------

class Stay:
    """The person is at one place (indoors or out) from t0 to t1."""
    __slots__ = ("t0", "t1", "city", "x", "y", "indoor", "site", "floor", "place")

    def __init__(self, t0, t1, city, x, y, indoor, site=None, floor=0, place="street"):
        self.t0, self.t1, self.city, self.x, self.y = t0, t1, city, x, y
        self.indoor, self.site, self.floor, self.place = indoor, site, floor, place

    def at(self, t):
        return self.city, self.x, self.y, 0.0, 0.0, self.indoor, self.site, "still", self.floor


class Move:
    """Travel along a polyline with a piecewise-constant speed profile
    (stops at lights included); mode drive/walk/train/metro/flight."""
    __slots__ = ("t0", "t1", "city", "pts", "cum", "prof", "mode")

    def __init__(self, t0, city, pts, mode, rng, cruise):
        self.t0, self.city, self.pts, self.mode = t0, city, pts, mode
        self.cum = [0.0]
        for (ax, ay), (bx, by) in zip(pts, pts[1:]):
            self.cum.append(self.cum[-1] + math.hypot(bx - ax, by - ay))
        total = self.cum[-1]
        prof = []                               # (t_start, s_start, speed)
        t, s = t0, 0.0
        while s < total - 1e-6:
            if mode == "drive":
                piece = rng.uniform(250, 700)
                v = max(2.0, rng.gauss(cruise, cruise * 0.2))
            elif mode == "walk":
                piece = rng.uniform(100, 400)
                v = max(0.6, rng.gauss(cruise, 0.15))
            else:
                piece = total
                v = cruise
            piece = min(piece, total - s)
            prof.append((t, s, v))
            t += piece / v
            s += piece
            if s < total - 1e-6 and mode in ("drive", "walk") and rng.random() < (0.6 if mode == "drive" else 0.2):
                stop = rng.uniform(15, 70) if mode == "drive" else rng.uniform(5, 30)
                prof.append((t, s, 0.0))
                t += stop
        prof.append((t, total, 0.0))
        self.prof = prof
        self.t1 = t

    def _s(self, t):
        prof = self.prof
        lo, hi = 0, len(prof) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if prof[mid][0] <= t:
                lo = mid
            else:
                hi = mid - 1
        ts, ss, v = prof[lo]
        return min(self.cum[-1], ss + v * (t - ts)), v

    def at(self, t):
        s, v = self._s(t)
        cum, pts = self.cum, self.pts
        k = 0
        while k < len(cum) - 2 and cum[k + 1] < s:
            k += 1
        seg = cum[k + 1] - cum[k]
        f = (s - cum[k]) / seg if seg > 0 else 0.0
        (ax, ay), (bx, by) = pts[k], pts[k + 1]
        ux, uy = ((bx - ax) / seg, (by - ay) / seg) if seg > 0 else (0.0, 0.0)
        return self.city, ax + f * (bx - ax), ay + f * (by - ay), ux * v, uy * v, False, None, \
            (self.mode if v > 0 else "still"), 0


def street_path(rng, city, a, b):
    """A path along the street grid (rotated by the city's street angle): an
    L-shape, with a jog on longer trips, so turns happen and straight runs
    are as long as real blocks allow."""
    ca, sa = math.cos(city.angle), math.sin(city.angle)

    def rot(p):
        return p[0] * ca + p[1] * sa, -p[0] * sa + p[1] * ca

    def unrot(p):
        return p[0] * ca - p[1] * sa, p[0] * sa + p[1] * ca
    ra, rb = rot(a), rot(b)
    pts = [ra]
    if math.hypot(rb[0] - ra[0], rb[1] - ra[1]) > 1200 and rng.random() < 0.7:
        mx = ra[0] + (rb[0] - ra[0]) * rng.uniform(0.3, 0.7)
        my = ra[1] + (rb[1] - ra[1]) * rng.uniform(0.3, 0.7)
        pts += [(mx, ra[1]), (mx, my), (rb[0], my)]
    elif rng.random() < 0.5:
        pts.append((rb[0], ra[1]))
    else:
        pts.append((ra[0], rb[1]))
    pts.append(rb)
    out = [unrot(p) for p in pts]
    out[0], out[-1] = a, b
    return [p for k, p in enumerate(out) if k == 0 or math.hypot(p[0] - out[k - 1][0], p[1] - out[k - 1][1]) > 0.5]


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------

ATTACKS = ("static_mock", "joystick_mock", "teleport", "replay", "emulator", "hooked_replay", "buddy")
HARD_NEGATIVES = ("multipath_jump", "cold_first_fix", "replaced_ap", "hotspot_bus", "rural_cell",
                  "train_flight", "shared_pool", "rtk_receiver", "offline_queue")


def iso(t):
    """Server time as ISO 8601 in Asia/Shanghai (+08:00), milliseconds."""
    d = dt.datetime.fromtimestamp(t, dt.timezone(dt.timedelta(hours=8)))
    return d.isoformat(timespec="milliseconds")


class Gen:
    """The simulation: the static world, the people, then day by day each
    person's physical day, what each phone reports and when it uploads."""

    def __init__(self, args):
        self.a = args
        self.seed = args.seed
        self.world = args.world
        self.p = dict(WORLDS[args.world])
        self.rng = rng_for(self.seed, "world", args.world)
        name, lat0, lon0 = self.p["city"]
        self.cities = [City(0, name, lat0, lon0, self.p["centres"], self.p["extent_m"], self.p["street_angle_deg"])]
        for k, (rn, la, lo, _sla, _slo, _kind, _secs) in enumerate(REMOTE):
            self.cities.append(City(k + 1, rn, la, lo, [(0, 0, 4500, 0.9)], 8000, self.rng.uniform(-30, 30)))
        self.radio = Radio(self.seed, self.p, self.cities)
        # the days: the last n days before end_date (tenant-local dates)
        end = dt.date.fromisoformat(args.end_date)
        n = args.warmup_days + args.days
        self.dates = [end - dt.timedelta(days=n - k) for k in range(n)]
        self.tz = dt.timezone(dt.timedelta(hours=8))
        self.sites, self.workers, self.devices, self.bindings = [], [], [], []
        self.dev_by_uid = {}
        self.uploads, self.checkins = [], []
        self.recordings = {}         # (worker ref, site ref) -> recorded genuine check-in visits
        self.dev_state = {}
        self.cur_day = 0

    # -- helpers ----------------------------------------------------------------
    def t_of(self, day, hours):
        """Epoch seconds of a tenant-local clock time on a day."""
        d = self.dates[day]
        return dt.datetime(d.year, d.month, d.day, tzinfo=self.tz).timestamp() + hours * 3600.0

    def local_h(self, t):
        return ((t + 8 * 3600) % 86400) / 3600.0

    def sample_point(self, rng, city, weight_pow=1.0, min_density=0.0):
        """A point drawn in proportion to the city's density (rejection)."""
        ext = city.extent
        while True:
            x, y = rng.uniform(-ext, ext), rng.uniform(-ext, ext)
            d = city.density(x, y)
            if d >= min_density and rng.random() < max(0.02, d) ** weight_pow:
                return x, y

    # -- the static world ------------------------------------------------------
    def build_world(self):
        """Sites (customers) where people and shops are, a share of them in
        the countryside, a few in other cities, routers that get replaced,
        then the bus lines and hotspot owners."""
        rng = self.rng
        city = self.cities[0]
        n_sites = max(20, int(round(self.p["sites"] * self.a.site_scale)))
        n_rural = int(round(n_sites * self.p["site_rural_share"]))
        cats = ["便利店", "烟酒店", "超市", "药房", "母婴店", "生鲜店", "餐饮"]
        for i in range(n_sites):
            if i < n_rural:
                while True:
                    e = city.extent * 1.2
                    x, y = rng.uniform(-e, e), rng.uniform(-e, e)
                    if city.env(x, y) == "rural":
                        break
            else:
                x, y = self.sample_point(rng, city, 0.8, 0.07)
            self.add_site(rng, city, "S%04d" % (i + 1), "%s %d" % (cats[i % len(cats)], i + 1), x, y)
        for k, c in enumerate(self.cities[1:]):
            for j in range(3):
                x, y = self.sample_point(rng, c, 1.0, 0.3)
                self.add_site(rng, c, "R%d%02d" % (k + 1, j + 1), "%s 客户 %d" % (c.name, j + 1), x, y)
        main_sites = [s for s in self.sites if s["city"] == 0]
        for s in main_sites:
            if rng.random() < self.a.replaced_ap_share and self.a.days > 1:
                s["replaced_day"] = self.a.warmup_days + rng.randrange(0, self.a.days)
                s["new_aps"] = [make_ap(self.seed, hkey(self.seed, 5, s["id"], k, 99), s["x"] + rng.uniform(-6, 6),
                                        s["y"] + rng.uniform(-6, 6), 2, s["id"]) for k in range(len(s["aps"]))]
        self.radio.build_mobile(rng, city, main_sites)

    def add_site(self, rng, city, ref, name, x, y):
        """A shop: its own routers, a pin off the shop by the geocoder's error,
        whether GNSS reaches inside (near windows), whether it has no
        mobile signal (a basement)."""
        sid = len(self.sites)
        env = city.env(x, y)
        aps = [make_ap(self.seed, hkey(self.seed, 5, sid, k), x + rng.uniform(-6, 6), y + rng.uniform(-6, 6), 2, sid)
               for k in range(rng.choice((1, 1, 2, 2, 3)))]
        gx, gy = x + rng.gauss(0, 15), y + rng.gauss(0, 15)
        lat, lon = city.frame.ll(gx, gy)
        site = {"id": sid, "ref": ref, "name": name, "city": city.idx, "x": x, "y": y, "env": env,
                "pin": (round(lat, 6), round(lon, 6)),
                "window_gnss": rng.random() < (0.55 if env in ("suburban", "rural") else 0.3),
                "no_signal": rng.random() < 0.03, "floor": rng.choice((0, 0, 0, 1, 2)),
                "aps": aps, "replaced_day": None, "new_aps": None}
        self.sites.append(site)
        self.radio.add_site(site)
        return site

    def new_device(self, rng, worker, platform, kind="phone"):
        """A phone (or an emulator): operator, 5G, Google services (Play
        Integrity), GNSS quality, clock skew, upload period."""
        uid = "%016x" % rng.getrandbits(64)
        if kind == "emulator":
            model = rng.choice(["sdk_gphone64_x86_64", "SM-G9880", "MuMu", "LDPlayer"])
        else:
            model = rng.choice(PHONE_MODELS[platform])
        dev = {"uid": uid, "platform": platform, "model": model, "owner": worker["ref"] if worker else None,
               "kind": kind, "shared_pool": False, "external_gnss": False,
               "operator": rng.choice(OPERATORS), "nr": rng.random() < 0.35,
               "gms": platform == "android" and rng.random() < self.p["gms_share"],
               "ios_mock_api": platform == "ios" and rng.random() < 0.8,
               "quality": rng.uniform(0.75, 1.3), "skew": rng.gauss(0, 1.2) if kind == "phone" else rng.gauss(0, 0.3),
               "upload_every": rng.uniform(120, 300), "integrity_bad": False, "strong": rng.random() < 0.6}
        if platform == "android" and kind == "phone" and rng.random() < 0.015:
            dev["integrity_bad"] = True       # an unlocked bootloader or custom ROM: honest, fails the check
        self.devices.append(dev)
        self.dev_by_uid[uid] = dev
        return dev

    def build_people(self):
        """Workers with homes, territories, transport and phones; the pool
        phones and their shift pairs; the RTK surveyor; the attackers and
        their techniques; every device's binding history."""
        rng = rng_for(self.seed, "people", self.world)
        city = self.cities[0]
        main_sites = [s for s in self.sites if s["city"] == 0]
        n_pool_workers = 2 * self.a.pool_phones
        for i in range(self.a.workers):
            w = {"ref": "W%03d" % (i + 1), "name": "工号 %03d" % (i + 1), "idx": i, "role": "normal", "devices": []}
            w["home"] = self.sample_point(rng, city, 1.0, 0.08)
            centre = rng.choice(main_sites)
            w["territory"] = sorted(main_sites, key=lambda s: math.hypot(s["x"] - centre["x"], s["y"] - centre["y"]))[:24]
            w["car"] = rng.random() < 0.5
            w["walk"] = rng.uniform(1.15, 1.5)
            w["home_ip"] = "%d.%d.%d.%d" % (*rng.choice(BROADBAND_NETS), rng.randrange(256), rng.randrange(1, 255))
            w["cafe_ip"] = "%d.%d.%d.%d" % (*rng.choice(BROADBAND_NETS), rng.randrange(256), rng.randrange(1, 255))
            w["home_router"] = make_ap(self.seed, hkey(self.seed, 6, i), w["home"][0] + rng.uniform(-5, 5),
                                       w["home"][1] + rng.uniform(-5, 5), 0)
            self.workers.append(w)
        for k in range(self.a.pool_phones):
            a, b = self.workers[2 * k], self.workers[2 * k + 1]
            dev = self.new_device(rng, None, "android")
            dev["shared_pool"] = True
            dev["depot"] = self.sample_point(rng, city, 1.0, 0.3)
            a["role"], b["role"] = "pool_am", "pool_pm"
            a["home"] = b["home"] = dev["depot"]        # the shift starts and ends at the depot
            dev["pool_pair"] = (a, b)
        for w in self.workers[n_pool_workers:n_pool_workers + self.a.rtk_workers]:
            w["role"] = "rtk"
        for w in self.workers:
            if w["role"] in ("pool_am", "pool_pm"):
                continue
            u = rng.random()
            if w["role"] == "rtk" or u >= self.p["ios_share"] + self.p["harmony_share"]:
                plat = "android"
            else:
                plat = "ios" if u < self.p["ios_share"] else "harmonyos"
            dev = self.new_device(rng, w, plat)
            dev["external_gnss"] = w["role"] == "rtk"
            w["devices"].append(dev)
            w["phone"] = dev
        # attackers: a share of the ordinary workers, two techniques each
        eligible = [w for w in self.workers if w["role"] == "normal"]
        rate = self.a.attack_rate
        self.attackers = []
        self.attacks_per_day = 0.0
        if rate > 0 and eligible:
            share = min(0.6, max(0.2, rate * 6.5 / 1.2))
            n_att = max(1, int(round(share * len(eligible))))
            order = eligible[:]
            rng.shuffle(order)
            self.attackers = order[:n_att]
            # about 6 check-ins a day per worker (pool shifts and trips have fewer)
            self.attacks_per_day = rate * 6.0 * len(self.workers) / n_att
            for k, w in enumerate(self.attackers):
                w["techniques"] = [ATTACKS[k % len(ATTACKS)], ATTACKS[(k + 3) % len(ATTACKS)]]
                if "emulator" in w["techniques"]:
                    emu = self.new_device(rng, w, "android", kind="emulator")
                    w["emulator"] = emu
                    w["devices"].append(emu)
        t_issue = self.t_of(0, 9.0) - 60 * 86400
        for w in self.workers:
            for dev in w["devices"]:
                t_b = t_issue if dev["kind"] == "phone" else self.t_of(0, 20.0) - 3 * 86400
                self.bindings.append({"device_uid": dev["uid"], "worker_ref": w["ref"], "bound_at": t_b,
                                      "unbound_at": None, "reason": None})
        for dev in self.devices:
            if dev["shared_pool"]:
                a, b = dev["pool_pair"]
                segs = [(t_issue, self.t_of(0, 0.0), a)]
                for d in range(len(self.dates)):
                    segs.append((self.t_of(d, 0.0), self.t_of(d, 12.75), a))
                    segs.append((self.t_of(d, 12.75), self.t_of(d, 24.0), b))
                for k2, (t0, t1, w) in enumerate(segs):
                    last = k2 == len(segs) - 1
                    self.bindings.append({"device_uid": dev["uid"], "worker_ref": w["ref"], "bound_at": t0,
                                          "unbound_at": None if last else t1, "reason": None if last else "shift"})

    # -- day planning ------------------------------------------------------------------
    def travel(self, rng, w, a, b, t0, segs, force_mode=None):
        """Append the trip from a to b starting at t0 and return the arrival
        time: walking, driving, taxi or metro (underground: no fixes)."""
        city = self.cities[0]
        d = math.hypot(b[0] - a[0], b[1] - a[1])
        if d < 5:
            return t0
        env = city.env(*a)
        cruise = {"canyon": 6.5, "urban": 9.0, "suburban": 12.5, "rural": 16.0}[env]
        mode = force_mode
        if mode is None:
            if w.get("car"):
                mode = "drive"
            elif d < 1300:
                mode = "walk"
            else:
                mode = "metro" if rng.random() < 0.5 else "drive"
        if mode == "metro":
            ang = math.atan2(b[1] - a[1], b[0] - a[0])
            s1 = (a[0] + 250 * math.cos(ang + 0.6), a[1] + 250 * math.sin(ang + 0.6))
            s2 = (b[0] - 250 * math.cos(ang - 0.6), b[1] - 250 * math.sin(ang - 0.6))
            t = self.travel(rng, w, a, s1, t0, segs, "walk")
            segs.append(Stay(t, t + rng.uniform(60, 300), city, s1[0], s1[1], True, place="metro"))
            m = Move(segs[-1].t1, city, [s1, s2], "metro", rng, rng.uniform(10, 14))
            segs.append(m)
            return self.travel(rng, w, s2, b, m.t1, segs, "walk")
        m = Move(t0, city, street_path(rng, city, a, b), mode, rng, cruise if mode == "drive" else w["walk"])
        segs.append(m)
        return m.t1

    def plan_day(self, w, day, rng, attacks=None, favour=None, absent=None, t_start_min=None):
        """One worker's physical day: Stay/Move segments and the visits with
        their check-in times.  attacks: {visit index: attack} replaced by an
        attack (he sits at home or in a cafe instead); favour: (site, index)
        a colleague's check-in to do (buddy); absent: a window he stays at
        home while his buddy checks in for him."""
        city = self.cities[0]
        attacks = attacks or {}
        segs, visits = [], []
        pool = w["role"] in ("pool_am", "pool_pm")
        if w["role"] == "pool_am":
            t_start, t_end, n_vis = self.t_of(day, rng.uniform(7.9, 8.2)), self.t_of(day, 12.2), rng.randint(3, 4)
        elif w["role"] == "pool_pm":
            t_start, t_end, n_vis = self.t_of(day, rng.uniform(12.9, 13.2)), self.t_of(day, 18.3), rng.randint(3, 5)
        else:
            t_start, t_end, n_vis = self.t_of(day, rng.uniform(8.2, 9.1)), self.t_of(day, 18.6), rng.randint(5, 8)
        if t_start_min is not None:
            t_start = max(t_start, t_start_min)
        home = w["home"]
        t_wake = self.t_of(day, 7.5) if not pool else t_start - 300
        segs.append(Stay(t_wake, t_start, city, home[0], home[1], True, place="depot" if pool else "home"))
        tour, cur, left = [], home, rng.sample(w["territory"], n_vis)
        while left:                       # a nearest-neighbour tour from home
            nxt = min(left, key=lambda s: math.hypot(s["x"] - cur[0], s["y"] - cur[1]))
            tour.append(nxt)
            left.remove(nxt)
            cur = (nxt["x"], nxt["y"])
        if favour is not None:
            tour.insert(min(favour[1], len(tour)), favour[0])
        t, pos, lunch_done = t_start, home, pool
        for k, s in enumerate(tour):
            if t > t_end - 1200:
                break
            if absent is not None and absent[0] - 3600 < t < absent[1]:
                t = self.travel(rng, w, pos, home, t, segs)
                t1 = max(t + 60, absent[1])
                segs.append(Stay(t, t1, city, home[0], home[1], True, place="home"))
                t, pos, absent = t1, home, None
                continue
            att = attacks.get(k)
            if att is not None:
                s = att.get("force_site") or s
                att["site"] = s
                t = self.plan_attack_slot(rng, w, s, t, pos, segs, att)
                pos = att["place"]
                visits.append({"site": s, "checkin_t": att["checkin_t"], "attack": att})
                continue
            door = (s["x"] + rng.uniform(-8, 8), s["y"] + rng.uniform(-8, 8))
            t = self.travel(rng, w, pos, door, t, segs)
            inside = (s["x"] + rng.gauss(0, 3), s["y"] + rng.gauss(0, 3))
            t_in = t + rng.uniform(15, 60)
            segs.append(Stay(t, t_in, city, door[0], door[1], False, place="door"))
            t_ci = t_in + rng.uniform(20, 150)
            t_out = t_ci + rng.uniform(12, 42) * 60
            # (the surveyor works outside, on his receiver)
            indoors = w["role"] != "rtk"
            segs.append(Stay(t_in, t_out, city, inside[0], inside[1], indoors, s, s["floor"] if indoors else 0,
                             place="site"))
            visits.append({"site": s, "checkin_t": t_ci, "favour": favour is not None and s is favour[0]})
            t, pos = t_out, door
            if not lunch_done and self.local_h(t) > 11.7:
                lunch_done = True
                r = (pos[0] + rng.uniform(-300, 300), pos[1] + rng.uniform(-300, 300))
                t = self.travel(rng, w, pos, r, t, segs)
                t1 = t + rng.uniform(30, 55) * 60
                segs.append(Stay(t, t1, city, r[0], r[1], True, place="restaurant"))
                t, pos = t1, r
        t = self.travel(rng, w, pos, home, t, segs)
        t_off = max(t + 600, self.t_of(day, 19.5)) if not pool else t + 300
        segs.append(Stay(t, t_off, city, home[0], home[1], True, place="depot" if pool else "home"))
        return segs, visits

    def plan_attack_slot(self, rng, w, site, t, pos, segs, att):
        """The attacker does not go to the site: he goes home (if near, or
        for a teleport) or to a cafe near where he is, and sits there; the
        check-in is faked from there at the time he would have arrived."""
        city = self.cities[0]
        home = w["home"]
        if att["type"] == "teleport" or math.hypot(pos[0] - home[0], pos[1] - home[1]) < 3000 or rng.random() < 0.3:
            place, kind = home, "home"
        else:
            place = (pos[0] + rng.uniform(-700, 700), pos[1] + rng.uniform(-700, 700))
            kind = "cafe"
        t = self.travel(rng, w, pos, place, t, segs)
        d = math.hypot(site["x"] - pos[0], site["y"] - pos[1])
        t_ci = t + max(240.0, d / 7.0) * rng.uniform(0.7, 1.2)
        t_end = t_ci + rng.uniform(15, 40) * 60
        segs.append(Stay(t, t_end, city, place[0], place[1], True, place=kind))
        att.update({"place": place, "place_kind": kind, "checkin_t": t_ci, "t_end": t_end})
        return t_end

    def plan_trip_day(self, w, day, rng):
        """A day in another city by high-speed train or plane: GNSS fixes on
        the train at up to 300 km/h, the phone off in flight (and, with a dead
        battery, sometimes until the first customer's door)."""
        k = rng.randrange(len(REMOTE))
        _rname, _la, _lo, sla, slo, kind, secs = REMOTE[k]
        rc = self.cities[k + 1]
        main = self.cities[0]
        h = HOME_STATION[self.world]
        dep_ll = (h[0], h[1]) if kind == "train" else (h[2], h[3])
        dep = main.frame.xy(*dep_ll)
        arr = rc.frame.xy(sla, slo)
        segs, visits, off = [], [], []
        t = self.t_of(day, rng.uniform(6.6, 7.2))
        home = w["home"]
        segs.append(Stay(t - 1200, t, main, home[0], home[1], True, place="home"))
        t = self.travel(rng, w, home, dep, t, segs, "drive")
        wait = rng.uniform(20, 40) * 60 if kind == "train" else rng.uniform(60, 90) * 60
        segs.append(Stay(t, t + wait, main, dep[0], dep[1], True, place="station"))
        t += wait
        if kind == "train":
            n = 40
            pts_ll = [(dep_ll[0] + (sla - dep_ll[0]) * i / n, dep_ll[1] + (slo - dep_ll[1]) * i / n) for i in range(n + 1)]
            m1 = Move(t, main, [main.frame.xy(*p) for p in pts_ll[:n // 2 + 1]], "train", rng, rng.uniform(76, 84))
            m2 = Move(m1.t1, rc, [rc.frame.xy(*p) for p in pts_ll[n // 2:]], "train", rng, rng.uniform(76, 84))
            segs += [m1, m2]
            t = m2.t1 + rng.uniform(3, 6) * 60
        else:
            off.append((t, t + secs))
            t += secs
        segs.append(Stay(t - 1, t + rng.uniform(300, 900), rc, arr[0], arr[1], True, place="station"))
        t = segs[-1].t1
        remote_sites = [s for s in self.sites if s["city"] == rc.idx]
        rng.shuffle(remote_sites)
        pos = arr
        dark = rng.random() < (0.4 if kind == "flight" else 0.25)
        dark_from = off[-1][1] if off else t - 60
        for j, s in enumerate(remote_sites[:2]):
            door = (s["x"] + rng.uniform(-8, 8), s["y"] + rng.uniform(-8, 8))
            m = Move(t, rc, street_path(rng, rc, pos, door), "drive", rng, 9.0)
            segs.append(m)
            t = m.t1
            t_in = t + rng.uniform(20, 60)
            segs.append(Stay(t, t_in, rc, door[0], door[1], False, place="door"))
            t_ci = t_in + rng.uniform(20, 120)
            if j == 0 and dark:
                off.append((dark_from, t_ci - 0.5))
            t_out = t_ci + rng.uniform(30, 70) * 60
            segs.append(Stay(t_in, t_out, rc, s["x"], s["y"], True, s, 0, place="site"))
            visits.append({"site": s, "checkin_t": t_ci, "hn": "train_flight" if j == 0 else "none"})
            t, pos = t_out, door
        segs.append(Stay(t, max(t + 600, self.t_of(day, 19.5)), rc, pos[0], pos[1], True, place="hotel"))
        return segs, visits, off

    # -- measurement -------------------------------------------------------------------
    def dstate(self, dev):
        """The per-phone state that persists between fixes: GNSS error,
        location-service cache, Wi-Fi scan cache, clock skew."""
        st = self.dev_state.get(dev["uid"])
        if st is None:
            st = {"ex": 0.0, "ey": 0.0, "ev": 0.0, "t": None, "net": None, "scan": None, "scan_t": None,
                  "scan_cells": None, "skew": dev["skew"]}
            self.dev_state[dev["uid"]] = st
        return st

    @staticmethod
    def gnss_sigma(env, indoor, mode):
        """Horizontal GNSS error (RMS, m): open sky a few metres, street
        canyons and trains worse, indoors near a window much worse."""
        s = {"canyon": 9.0, "urban": 5.0, "suburban": 3.2, "rural": 2.4}[env]
        if mode == "train":
            s = 12.0
        if indoor:
            s = s * 2.5 + 8.0
        return s

    def measure(self, rng, dev, t, state, checkin=False, hn_kind=None, forced_ap=None, cold=False, home_router=None):
        """What the phone reports for its true state at time t: a GNSS fix
        (AR(1) error, accuracy consistent with it, altitude, Doppler speed
        and bearing, satellites and C/N0) or a network fix indoors, and on
        Android a Wi-Fi scan and cells.  None when it cannot get a fix."""
        city, x, y, vx, vy, indoor, site, mode, floor = state
        if mode in ("metro", "flight"):
            return None
        st = self.dstate(dev)
        env = city.env(x, y)
        gnss_ok = (not indoor) or (site is not None and site["window_gnss"]) or rng.random() < 0.08
        sig = self.gnss_sigma(env, indoor, mode) * dev["quality"]
        tau = 150.0 if indoor else 90.0
        rho = 0.0 if st["t"] is None else math.exp(-max(0.0, t - st["t"]) / tau)
        innov = math.sqrt(max(0.0, 1 - rho * rho)) * sig / math.sqrt(2.0)      # per axis
        st["ex"] = rho * st["ex"] + innov * rng.gauss(0, 1)
        st["ey"] = rho * st["ey"] + innov * rng.gauss(0, 1)
        st["ev"] = rho * st["ev"] + math.sqrt(max(0.0, 1 - rho * rho)) * 1.3 * sig / math.sqrt(2.0) * rng.gauss(0, 1)
        st["t"] = t
        android = dev["platform"] != "ios"
        spd = math.hypot(vx, vy)
        sats = cn0m = cn0s = None
        if cold:
            # the first fix after a long time off: a cold start, few weak satellites
            mag = math.exp(rng.gauss(math.log(45.0), 0.8))
            ang = rng.uniform(0, 2 * math.pi)
            ex, ey = mag * math.cos(ang), mag * math.sin(ang)
            st["ex"], st["ey"] = ex / 3, ey / 3
            provider = "gps" if android else "fused"
            lat, lon = city.frame.ll(x + ex, y + ey)
            acc = round(max(8.0, mag * rng.uniform(0.5, 1.3)), 1)
            alt = round(14.0 + floor * 3.5 + rng.gauss(0, 25), 1)
            sats, cn0m, cn0s = rng.randint(4, 7), round(rng.uniform(19, 26), 1), round(rng.uniform(2.0, 4.5), 1)
            speed, bearing = round(abs(rng.gauss(0, 0.3)), 2), None
        elif gnss_ok or (dev["external_gnss"] and not indoor):
            ex, ey = st["ex"], st["ey"]
            if hn_kind == "multipath":
                # a reflected signal pulls the fix far away; the receiver's
                # accuracy estimate does not know
                mag = rng.uniform(80, 420)
                ang = rng.uniform(0, 2 * math.pi)
                ex, ey = ex + mag * math.cos(ang), ey + mag * math.sin(ang)
            provider = "gps" if android else "fused"
            acc = sig * 1.5 * math.exp(rng.gauss(0, 0.25))
            if dev["external_gnss"] and not indoor:
                acc = rng.choice((0.014, 0.018, 0.021, 0.03)) if rng.random() < 0.8 else rng.uniform(0.2, 0.8)
                ex, ey = rng.gauss(0, acc), rng.gauss(0, acc)
            lat, lon = city.frame.ll(x + ex, y + ey)
            acc = round(acc, 3 if acc < 1 else 1)
            alt = round(9.8 + 4.0 + floor * 3.5 + 1.2 + st["ev"], 1)
            if indoor:
                sats, cn0m = rng.randint(4, 9), rng.uniform(18, 25)
            elif mode == "train":
                sats, cn0m = rng.randint(6, 14), rng.uniform(22, 29)
            elif env == "canyon":
                sats, cn0m = rng.randint(8, 17), rng.uniform(24, 31)
            elif env == "urban":
                sats, cn0m = rng.randint(13, 24), rng.uniform(28, 35)
            else:
                sats, cn0m = rng.randint(18, 31), rng.uniform(32, 42)
            cn0s = rng.uniform(3.0, 8.0) if sats >= 8 else rng.uniform(2.0, 6.0)
            cn0m, cn0s = round(cn0m, 1), round(cn0s, 1)
            speed = max(0.0, spd + rng.gauss(0, 0.15 + 0.02 * spd)) if spd > 0 else abs(rng.gauss(0, 0.12))
            speed = round(speed, 2)
            bearing = None
            if spd > 0.6:
                hd = math.degrees(math.atan2(vx, vy)) % 360.0
                bearing = round((hd + rng.gauss(0, max(2.0, 12.0 / (spd + 0.5)))) % 360.0, 1) % 360.0
        else:
            # a network fix (the location service from Wi-Fi or cells); it
            # answers the same while the phone does not move
            provider = "network" if android else "fused"
            net = st["net"]
            if net is not None and t - net[0] < 90 and net[1] == city.idx and math.hypot(net[2] - x, net[3] - y) < 15:
                lat, lon, acc = net[4]
            else:
                sn = 18.0 if env in ("canyon", "urban") else (35.0 if env == "suburban" else 250.0)
                lat, lon = city.frame.ll(x + rng.gauss(0, sn), y + rng.gauss(0, sn))
                acc = round(sn * 1.5 * math.exp(rng.gauss(0, 0.2)), 1)
                if not android:
                    acc = 65.0 if sn < 100 else 1414.0
                st["net"] = (t, city.idx, x, y, (lat, lon, acc))
            alt = None if android else round(4.0 + floor * 3.5 + rng.gauss(0, 6), 1)
            speed = bearing = None
        el = {"device_uid": dev["uid"], "recorded_at": None, "lat": round(lat, 7), "lon": round(lon, 7),
              "provider": provider, "accuracy_m": acc, "altitude_m": alt, "speed_mps": speed, "bearing_deg": bearing}
        if android:
            el["mock"] = bool(dev["external_gnss"]) and provider == "gps" and not cold
            if sats is not None:
                el["satellites"], el["cn0_mean_dbhz"], el["cn0_sd_dbhz"] = sats, cn0m, cn0s
            self.attach_radio(rng, dev, st, el, t, city, x, y, indoor, site, checkin, mode, forced_ap, home_router)
        elif dev["ios_mock_api"]:
            el["mock"] = False
        return el

    def attach_radio(self, rng, dev, st, el, t, city, x, y, indoor, site, checkin, mode, forced_ap, home_router,
                     fresh_p=None):
        """A fresh Wi-Fi scan for a check-in and often when still; otherwise
        the OS's cached results (same RSSIs, older age) or none.  Cells with
        every scan and with half the other fixes."""
        if fresh_p is None:
            fresh_p = 1.0 if checkin else (0.6 if mode == "still" else 0.25)
        if rng.random() < fresh_p:
            extra = None
            if home_router is not None and indoor and math.hypot(home_router.x - x, home_router.y - y) < 30:
                extra = {home_router.bssids[0][0]: -45.0 + rng.gauss(0, 3)}
            sc = self.radio.scan(rng, city, x, y, indoor, site, self.cur_day, t, self.local_h(t),
                                 30 if checkin else 15, forced=forced_ap, extra=extra)
            cells = self.radio.cells(rng, city, x, y, indoor, dev["operator"], dev["nr"])
            st["scan"], st["scan_t"], st["scan_cells"] = sc, t, cells
            age = rng.randint(0, 3)
        elif st["scan"] is not None and 0 <= t - st["scan_t"] < 120 and rng.random() < 0.5:
            sc, cells = st["scan"], st["scan_cells"]
            age = int(t - st["scan_t"]) + rng.randint(0, 2)
        else:
            sc, age = None, 0
            cells = self.radio.cells(rng, city, x, y, indoor, dev["operator"], dev["nr"]) if rng.random() < 0.5 else None
        if sc:
            el["wifi"] = [{"bssid": m, "rssi_dbm": r, "age_s": age} for m, r in sc]
        if cells:
            el["cells"] = cells

    # -- the simulation ----------------------------------------------------------------
    def run(self):
        """Day by day: decide attacks and trips, plan every physical day
        (buddies' colleagues first, then the absent ones, pool phones shift
        after shift), then emit and upload."""
        self.build_world()
        self.build_people()
        warm = self.a.warmup_days
        for day in range(len(self.dates)):
            self.cur_day = day
            eval_day = day >= warm
            plans = {}
            todo = []
            for w in self.workers:
                wr = rng_for(self.seed, "day", day, w["ref"])
                attacks = {}
                trip = False
                if eval_day and w in self.attackers:
                    lam = self.attacks_per_day
                    n = int(lam) + (1 if wr.random() < lam - int(lam) else 0)
                    slots = wr.sample(range(1, 5), min(3, n))
                    for k in slots:
                        typ = wr.choice(w["techniques"])
                        if typ == "buddy" and (attacks or k != slots[0]):
                            typ = [x for x in w["techniques"] if x != "buddy"][0]
                        a = {"type": typ, "visit": k}
                        if typ in ("replay", "hooked_replay"):
                            rec = sorted(s["ref"] for s in w["territory"] if (w["ref"], s["ref"]) in self.recordings)
                            if rec:
                                ref = wr.choice(rec)
                                a["force_site"] = next(s for s in self.sites if s["ref"] == ref)
                        attacks[k] = a
                    if any(a["type"] == "buddy" for a in attacks.values()):
                        attacks = {k: a for k, a in attacks.items() if a["type"] == "buddy"}
                if eval_day and not attacks and w["role"] == "normal" and wr.random() < self.a.trip_rate:
                    trip = True
                todo.append((w, wr, attacks, trip))
            favours = {}
            buddies = {w["ref"] for w, _r, attacks, _t in todo if any(a["type"] == "buddy" for a in attacks.values())}
            for w, wr, attacks, trip in todo:
                for a in attacks.values():
                    if a["type"] != "buddy":
                        continue
                    mates = [m for m in self.workers if m["role"] == "normal" and m is not w and m["ref"] not in favours
                             and m["ref"] not in buddies]
                    mates.sort(key=lambda m: math.hypot(m["home"][0] - w["home"][0], m["home"][1] - w["home"][1]))
                    mate = mates[wr.randrange(min(3, len(mates)))]
                    favours[mate["ref"]] = {"site": wr.choice(w["territory"]), "pos": wr.randint(1, 4), "for": w, "att": a}
            # the colleagues who do a favour, and everyone else who is not absent
            absents = {}
            for w, wr, attacks, trip in todo:
                if w["role"] in ("pool_am", "pool_pm") or any(a["type"] == "buddy" for a in attacks.values()):
                    continue
                fav = favours.get(w["ref"])
                if trip and fav is None:
                    segs, visits, off = self.plan_trip_day(w, day, wr)
                    plans[w["ref"]] = (segs, visits, off, {})
                    continue
                segs, visits = self.plan_day(w, day, wr, attacks=attacks,
                                             favour=(fav["site"], fav["pos"]) if fav else None)
                if fav:
                    for v in visits:
                        if v.get("favour"):
                            v["buddy_of"] = fav["for"]
                            absents[fav["for"]["ref"]] = (v["checkin_t"] - 1800, v["checkin_t"] + 1800)
                plans[w["ref"]] = (segs, visits, [], attacks)
            for w, wr, attacks, trip in todo:
                if any(a["type"] == "buddy" for a in attacks.values()):
                    ab = absents.get(w["ref"])
                    segs, visits = self.plan_day(w, day, wr, absent=ab)
                    plans[w["ref"]] = (segs, visits, [], {"absent": {"type": "buddy_absent", "window": ab}} if ab else {})
            for dev in self.devices:
                if dev["shared_pool"]:
                    a, b = dev["pool_pair"]
                    sa, va = self.plan_day(a, day, rng_for(self.seed, "day", day, a["ref"]))
                    sb, vb = self.plan_day(b, day, rng_for(self.seed, "day", day, b["ref"]), t_start_min=sa[-1].t1 + 600)
                    depot = dev["depot"]
                    gap = Stay(sa[-1].t1, sb[0].t0, self.cities[0], depot[0], depot[1], True, place="depot")
                    vis = [dict(v, worker=a) for v in va] + [dict(v, worker=b) for v in vb]
                    plans["pool:" + dev["uid"]] = (sa + [gap] + sb, vis, [], {})
            for key in sorted(plans):
                segs, visits, off, attacks = plans[key]
                if key.startswith("pool:"):
                    self.emit_stream(day, self.dev_by_uid[key[5:]], None, segs, visits, off, {})
                else:
                    w = next(x for x in self.workers if x["ref"] == key)
                    self.emit_stream(day, w["phone"], w, segs, [dict(v, worker=w) for v in visits], off, attacks)

    def hn_for_checkin(self, rng, day, v):
        """The hard-negative scenario of one genuine check-in (evaluation
        days only): a multipath jump (downtown), a cold first fix, a hotspot
        or bus Wi-Fi next to the phone, an offline window."""
        if day < self.a.warmup_days or v.get("favour") or v.get("hn") == "none":
            return None
        if v.get("hn"):
            return v["hn"]
        u, r = rng.random(), self.a.hn_rate
        if u < r and v["site"]["env"] in ("canyon", "urban"):
            return "multipath_jump"
        if u < 2 * r:
            return "cold_first_fix"
        if u < 3 * r and v["site"]["city"] == 0:
            return "hotspot_bus"
        if u < 3.6 * r:
            return "offline_window"
        return None

    def emit_stream(self, day, dev, w, segs, visits, off, attacks):
        """Sample the phone's fixes along the day (cadence by motion: 30 s
        driving, 60 s walking, 5 min still), add the check-ins, replace each
        attack window by what the attack reports, then queue and upload."""
        rng = rng_for(self.seed, "emit", day, dev["uid"])
        segs = sorted(segs, key=lambda s: s.t0)
        t_first, t_last = segs[0].t0, segs[-1].t1
        offline, hn_of = [], {}
        off = list(off)
        for v in visits:
            if v.get("attack"):
                continue
            hn = self.hn_for_checkin(rng, day, v)
            if hn == "cold_first_fix":
                off.append((v["checkin_t"] - rng.uniform(3600, 7200), v["checkin_t"] - 0.5))
            if hn == "offline_window":
                t0 = v["checkin_t"] - rng.uniform(60, 900)
                offline.append((t0, t0 + rng.uniform(1500, 5400)))
                hn = None
            if v["site"]["no_signal"]:
                offline.append((v["checkin_t"] - 60, v["checkin_t"] + rng.uniform(900, 2400)))
            hn_of[id(v)] = hn
        starts = [s.t0 for s in segs]

        def seg_at(t):
            i = bisect.bisect_right(starts, t) - 1
            while i >= 0:
                if segs[i].t0 <= t < segs[i].t1:
                    return segs[i]
                i -= 1
            return None

        def is_off(t):
            return any(a <= t < b for a, b in off)

        home_ip_today = w is not None and rng.random() < 0.9
        router = w["home_router"] if w is not None else None

        def wifi_ip(s):
            if w is not None and s is not None and isinstance(s, Stay) and s.place == "home" and home_ip_today:
                return w["home_ip"]
            return None

        # the sample times: the tracking cadence by motion (30 s driving, 60 s
        # walking, 5 min still), the check-ins, an arrival fix before a
        # multipath check-in; measured in time order (the GNSS error and the
        # scan cache are states of the phone)
        events = []
        t = t_first
        while t < t_last:
            s = seg_at(t)
            if s is None:
                t += 60
                continue
            mode = s.at(t)[7]
            events.append((t, 1, None))
            t += {"still": 300.0, "walk": 60.0, "drive": 30.0, "train": 30.0}.get(mode, 120.0) * rng.uniform(0.85, 1.15)
        for k, v in enumerate(visits):
            if v.get("attack") or seg_at(v["checkin_t"]) is None:
                continue
            events.append((v["checkin_t"], 2, k))
            if hn_of.get(id(v)) == "multipath_jump" and rng.random() < 0.5:
                events.append((v["checkin_t"] - 15, 0, k))
        events.sort(key=lambda e: (e[0], e[1]))
        fixes = []                     # (true time, element, meta)
        for t, kind, k in events:
            s = seg_at(t)
            state = s.at(t)
            if kind == 1:
                if is_off(t) or (state[7] == "train" and rng.random() < 0.3):
                    continue
                el = self.measure(rng, dev, t, state, home_router=router)
                if el is not None:
                    fixes.append((t, el, {"kind": "track", "ip": wifi_ip(s)}))
                continue
            v = visits[k]
            hn = hn_of.get(id(v))
            if kind == 0:
                # the arrival fix, outdoors, already pulled away by a reflection
                el0 = self.measure(rng, dev, t, state[:5] + (False,) + state[6:], hn_kind="multipath")
                if el0 is not None:
                    fixes.append((t, el0, {"kind": "track"}))
                continue
            forced = None
            if hn == "hotspot_bus":
                pick = rng.choice(self.radio.buses + self.radio.npcs)
                forced = (pick["mac"], rng.uniform(3, 15), 1 if "len" in pick else 0, pick["uid"])
            if hn == "multipath_jump":
                # checking in at the entrance, outdoors, between tall buildings
                state = state[:5] + (False,) + state[6:]
            el = self.measure(rng, dev, t, state, checkin=True, hn_kind="multipath" if hn == "multipath_jump" else None,
                              forced_ap=forced, cold=(hn == "cold_first_fix"), home_router=router)
            if el is None:
                continue
            el["customer_ref"] = v["site"]["ref"]
            who = v["worker"]
            label = hn
            if v.get("buddy_of") is not None:
                who, label = v["buddy_of"], "buddy"
                t_b, t_u = t - rng.uniform(40, 150), t + rng.uniform(60, 480)
                self.rebind(dev, w, who, t_b, t_u)
            fixes.append((t, el, {"kind": "checkin", "site": v["site"], "worker": who, "label": label,
                                  "variant": "colleague_device" if label == "buddy" else ""}))
        for a in attacks.values():
            if a["type"] == "buddy_absent":
                # the absent worker's own phone: switched off, or left reporting at home
                if rng.random() < 0.5:
                    a0, a1 = a["window"]
                    fixes = [f for f in fixes if not (a0 <= f[0] <= a1)]
            elif "checkin_t" in a:
                fixes = self.attack_fixes(rng, day, dev, w, a, fixes, seg_at)
        fixes.sort(key=lambda f: f[0])
        self.queue_and_upload(rng, day, fixes, offline)

    def rebind(self, dev, owner, other, t_b, t_u):
        """Buddy check-in: the owner's phone logged in as the colleague for a
        few minutes (binding rows as register_device() writes them)."""
        for b in self.bindings:
            if b["device_uid"] == dev["uid"] and b["unbound_at"] is None:
                b["unbound_at"], b["reason"] = t_b, "rebound"
        self.bindings.append({"device_uid": dev["uid"], "worker_ref": other["ref"], "bound_at": t_b,
                              "unbound_at": t_u, "reason": "rebound"})
        self.bindings.append({"device_uid": dev["uid"], "worker_ref": owner["ref"], "bound_at": t_u,
                              "unbound_at": None, "reason": None})

    # -- attacks -----------------------------------------------------------------------
    def attack_fixes(self, rng, day, dev, w, att, fixes, seg_at):
        """What the phone (or emulator) reports during an attack window, in
        place of the real fixes; the check-in among them.  The real phone
        is at home or in a cafe: its own Wi-Fi, cells, satellites and IP are
        from there unless the attack replays them."""
        typ = att["type"]
        site = att["site"]
        tci = att["checkin_t"]
        city = self.cities[0]
        pin_lat, pin_lon = site["pin"]
        sx, sy = city.frame.xy(pin_lat, pin_lon)
        hide = rng.random() < 0.15             # a rooted phone hiding the mock flag
        variant = []
        rep = dev
        t_on, t_off = tci - rng.uniform(60, 600), att["t_end"]
        if typ == "teleport":
            t_on = tci - (0.0 if rng.random() < 0.5 else rng.uniform(10, 60))
            t_off = tci + rng.uniform(30, 240)
        rec = None
        if typ in ("replay", "hooked_replay"):
            recs = self.recordings.get((w["ref"], site["ref"]))
            rec = recs[-1] if recs else None
            if rec is None:
                typ = "static_mock"
                variant.append("no_recording")
        if typ == "emulator":
            rep = w["emulator"]
            t_on = tci - rng.uniform(120, 900)
            if rng.random() < 0.3:
                variant.append("phone_on")
            else:
                fixes = [f for f in fixes if not (t_on - 600 <= f[0] <= t_off + 600)]
        else:
            lo = t_on - (700 if typ == "replay" else 1)
            fixes = [f for f in fixes if not (lo <= f[0] <= t_off + 1)]
        here = seg_at(tci)
        real = here.at(tci) if here is not None else None       # where the phone really is
        kind = att.get("place_kind", "home")
        on_wifi = rng.random() < (0.75 if kind == "home" else 0.4)
        ip = (w["home_ip"] if kind == "home" else w["cafe_ip"]) if on_wifi else None
        exact_pin = rng.random() < 0.3
        const_acc = rng.choice((3.0, 5.0, 10.0, 20.0)) if rng.random() < 0.6 else None
        alt_mode = rng.choice(("zero", "zero", "const", "noise"))
        const_alt = round(rng.uniform(5, 40), 1)
        provider = "gps" if rng.random() < 0.8 else "fused"
        ios = rep["platform"] == "ios"
        if ios:
            # the provider is the app's label, not the mock app's: an iOS app
            # (Core Location) sees no provider and says "fused" for every fix
            # (the draw above stays, so the random stream is unchanged)
            provider = "fused"
        out = []

        def real_radio(el, t, checkin):
            # the Wi-Fi and cells where the phone really is
            if real is None or ios:
                return
            c, x, y, _vx, _vy, indoor, _s, _m, _f = real
            st = self.dstate(rep)
            self.attach_radio(rng, rep, st, el, t, c, x, y, indoor, None, checkin, "still", None,
                              w["home_router"] if kind == "home" else None, fresh_p=1.0 if checkin else 0.5)

        def chip_status(el):
            # satellites from the real chip indoors, or nothing (chip idle)
            if not ios and rng.random() < 0.5:
                el["satellites"] = rng.randint(0, 6)
                el["cn0_mean_dbhz"] = round(rng.uniform(16, 24), 1)
                el["cn0_sd_dbhz"] = round(rng.uniform(1.5, 5.0), 1)

        def mock_el(t, x, y, speed, bearing, checkin):
            lat, lon = city.frame.ll(x, y)
            if exact_pin and not speed:
                lat, lon = pin_lat, pin_lon
            el = {"device_uid": rep["uid"], "recorded_at": None, "lat": round(lat, 7), "lon": round(lon, 7),
                  "provider": provider, "accuracy_m": const_acc if const_acc is not None else round(rng.uniform(3, 15), 1),
                  "altitude_m": 0.0 if alt_mode == "zero" else (const_alt if alt_mode == "const" else round(rng.uniform(0, 30), 1)),
                  "speed_mps": speed, "bearing_deg": bearing}
            if not ios or rep["ios_mock_api"]:
                el["mock"] = not hide
            chip_status(el)
            real_radio(el, t, checkin)
            return el

        def cadence(t, still):
            nt = t + (rng.uniform(250, 330) if still else 30.0)
            return tci if t < tci < nt else nt

        bx, by = sx + rng.uniform(-25, 25), sy + rng.uniform(-25, 25)
        if typ in ("static_mock", "teleport"):
            variant.append("exact_pin" if exact_pin else "near_pin")
            t = t_on
            while t <= t_off:
                out.append((t, mock_el(t, bx, by, 0.0 if rng.random() < 0.7 else None, None, abs(t - tci) < 0.5),
                            abs(t - tci) < 0.5))
                t = cadence(t, True)
        elif typ == "joystick_mock":
            route = rng.random() < 0.5
            variant.append("route" if route else "joystick")
            v = rng.uniform(8, 12) if route else rng.uniform(1.2, 1.6)
            dist = v * rng.uniform(300, 700)
            ang = rng.uniform(0, 2 * math.pi)
            legs = [(bx + dist * math.cos(ang), by + dist * math.sin(ang))]
            if route:     # a route simulator: straight legs, whole-degree bearings
                legs += [(bx, legs[0][1]), (bx, by)]
            else:         # a joystick pushed in 45-degree steps
                cx, cy = legs[0]
                while math.hypot(bx - cx, by - cy) > 40:
                    a = round(math.atan2(by - cy, bx - cx) / (math.pi / 4)) * (math.pi / 4) + rng.gauss(0, 0.25)
                    step = min(rng.uniform(80, 250), math.hypot(bx - cx, by - cy))
                    cx, cy = cx + step * math.cos(a), cy + step * math.sin(a)
                    legs.append((cx, cy))
                legs.append((bx, by))
            cum = [0.0]
            for (ax, ay), (qx, qy) in zip(legs, legs[1:]):
                cum.append(cum[-1] + math.hypot(qx - ax, qy - ay))
            t_on = tci - cum[-1] / v - rng.uniform(20, 90)
            fixes = [f for f in fixes if not (t_on - 1 <= f[0] <= t_off + 1)]
            jitter = rng.random() < 0.5
            t = t_on
            while t <= t_off:
                along = (t - t_on) * v
                ck = abs(t - tci) < 0.5
                if along < cum[-1]:
                    k = 0
                    while k < len(cum) - 2 and cum[k + 1] < along:
                        k += 1
                    seg = (cum[k + 1] - cum[k]) or 1.0
                    f = (along - cum[k]) / seg
                    (ax, ay), (qx, qy) = legs[k], legs[k + 1]
                    brg = math.degrees(math.atan2(qx - ax, qy - ay)) % 360.0
                    el = mock_el(t, ax + f * (qx - ax), ay + f * (qy - ay), round(v, 2),
                                 float(round(brg)) % 360.0 if route else round(brg, 1) % 360.0, ck)
                    nt = t + (30.0 if route else 60.0)
                    nt = tci if t < tci < nt else nt
                else:
                    x, y = (bx + rng.gauss(0, 1.5), by + rng.gauss(0, 1.5)) if jitter else (bx, by)
                    el = mock_el(t, x, y, 0.0, None, ck)
                    nt = cadence(t, True)
                out.append((t, el, ck))
                t = nt
        elif typ == "replay":
            # an earlier genuine visit's fixes, shifted in time: a GPX track
            # through a mock app (positions and altitude only) or a hook
            # replaying the app's own log (every field)
            hooked = rng.random() < 0.4
            variant.append("hook_log" if hooked else "gpx_mock")
            if hooked:
                hide = True
            for (rt, rel, rck) in rec["fixes"]:
                t = tci + (rt - rec["checkin_t"])
                if t > t_off:
                    continue
                el = {"device_uid": dev["uid"], "recorded_at": None, "lat": rel["lat"], "lon": rel["lon"],
                      "provider": rel["provider"] if hooked else provider,
                      "accuracy_m": rel.get("accuracy_m") if hooked else (const_acc or 5.0),
                      "altitude_m": rel.get("altitude_m"),
                      "speed_mps": rel.get("speed_mps") if hooked else 0.0,
                      "bearing_deg": rel.get("bearing_deg") if hooked else None}
                if not ios or dev["ios_mock_api"]:
                    el["mock"] = False if hooked else (not hide)
                if hooked:
                    for k2 in ("satellites", "cn0_mean_dbhz", "cn0_sd_dbhz"):
                        if k2 in rel:
                            el[k2] = rel[k2]
                else:
                    chip_status(el)
                real_radio(el, t, rck)
                out.append((t, el, rck))
        elif typ == "hooked_replay":
            # hooks on the location, Wi-Fi and telephony APIs of a rooted
            # phone: GNSS-like positions at the site, plausible satellites,
            # and the scan and cells recorded there on an earlier visit
            exact = rng.random() < 0.4
            variant.append("exact_scan" if exact else "jittered_scan")
            hide = True
            ex = ey = 0.0
            t = t_on
            while t <= t_off:
                ck = abs(t - tci) < 0.5
                ex, ey = 0.7 * ex + 0.71 * rng.gauss(0, 6), 0.7 * ey + 0.71 * rng.gauss(0, 6)
                lat, lon = city.frame.ll(site["x"] + ex, site["y"] + ey)
                el = {"device_uid": dev["uid"], "recorded_at": None, "lat": round(lat, 7), "lon": round(lon, 7),
                      "provider": "gps" if not ios else "fused", "accuracy_m": round(9 * math.exp(rng.gauss(0, 0.25)), 1),
                      "altitude_m": round(15 + rng.gauss(0, 5), 1), "speed_mps": round(abs(rng.gauss(0, 0.15)), 2),
                      "bearing_deg": None, "mock": False}
                if not ios:
                    el["satellites"], el["cn0_mean_dbhz"] = rng.randint(7, 16), round(rng.uniform(22, 32), 1)
                    el["cn0_sd_dbhz"] = round(rng.uniform(3, 7), 1)
                    if ck or rng.random() < 0.5:
                        sc = rec["scan"] if exact else [(m, int(r + round(rng.gauss(0, 2)))) for m, r in rec["scan"]
                                                        if rng.random() > 0.2]
                        el["wifi"] = [{"bssid": m, "rssi_dbm": max(-127, min(-1, r)), "age_s": rng.randint(0, 3)}
                                      for m, r in sc]
                        el["cells"] = [dict(c, signal_dbm=max(-140, min(0, c["signal_dbm"] + (0 if exact else int(round(rng.gauss(0, 2)))))))
                                       for c in rec["cells"]]
                out.append((t, el, ck))
                t = cadence(t, True)
        elif typ == "emulator":
            # the app in an Android emulator on a PC: typed coordinates, the
            # emulator's fixed fields, its virtual access point and its
            # simulated (US) operator
            lat, lon = (pin_lat, pin_lon) if exact_pin else tuple(round(q, 6) for q in city.frame.ll(bx, by))
            acc = rng.choice((5.0, 20.0, 0.0))
            emu_sats = rng.random() < 0.5
            radio_on = rng.random() < 0.6
            variant.append("emu_radio" if radio_on else "emu_no_radio")
            t = t_on
            while t <= t_off:
                el = {"device_uid": rep["uid"], "recorded_at": None, "lat": lat, "lon": lon, "provider": "gps",
                      "accuracy_m": acc, "altitude_m": 0.0, "speed_mps": 0.0, "bearing_deg": 0.0, "mock": False}
                if emu_sats:
                    el["satellites"], el["cn0_mean_dbhz"], el["cn0_sd_dbhz"] = 9, 30.0, 0.0
                if radio_on:
                    el["wifi"] = [{"bssid": EMULATOR_BSSID, "rssi_dbm": -50, "age_s": 0}]
                    el["cells"] = [{"mcc": 310, "mnc": 260, "lac": 1, "cid": 1, "signal_dbm": -85, "serving": True,
                                    "radio": "lte"}]
                out.append((t, el, abs(t - tci) < 0.5))
                t = cadence(t, True)
            ip = w["home_ip"]
        if not any(ck for _t, _e, ck in out):
            return fixes
        if typ not in ("emulator", "hooked_replay") and not (typ == "replay" and "hook_log" in variant):
            variant.append("hidden_mock" if hide else "mock_flag")
        # switching the mock off: the phone reports where it really is at once
        if real is not None and typ != "emulator" and t_off < att["t_end"] + 1:
            here2 = seg_at(t_off + 2)
            if here2 is not None:
                el = self.measure(rng, dev, t_off + 2, here2.at(t_off + 2), home_router=w["home_router"])
                if el is not None:
                    fixes.append((t_off + 2, el, {"kind": "track", "ip": ip if typ == "teleport" else None}))
        vtxt = "+".join(variant)
        for t, el, ck in out:
            meta = {"kind": "attack", "ip": ip}
            if ck:
                el["customer_ref"] = site["ref"]
                meta = {"kind": "checkin", "site": site, "worker": w, "label": typ, "variant": vtxt, "hide": hide, "ip": ip}
            fixes.append((t, el, meta))
        return fixes

    # -- uploads -----------------------------------------------------------------------
    def queue_and_upload(self, rng, day, fixes, offline):
        """Clock skew, integrity and the upload queue of each phone: every
        few minutes, at once for a check-in, and after an offline window the
        live fixes first and the backlog after them, oldest first, in
        chunks (so the server sees them late and out of order)."""
        per_dev = {}
        for f in fixes:
            per_dev.setdefault(f[1]["device_uid"], []).append(f)
        for uid in sorted(per_dev):
            fl = sorted(per_dev[uid], key=lambda f: f[0])
            dev = self.dev_by_uid[uid]
            st = self.dstate(dev)
            if rng.random() < 0.05:             # an NTP correction after a reboot
                st["skew"] += rng.choice((-1, 1)) * rng.uniform(5, 90)
            elif abs(st["skew"]) > 30 and rng.random() < 0.5:
                st["skew"] = rng.gauss(0, 1.2)
            for t, el, meta in fl:
                el["recorded_at"] = int(round((t + st["skew"]) * 1000))
                if meta.get("kind") == "checkin":
                    integ = self.integrity(rng, dev, meta)
                    if integ is not None:
                        el["integrity"] = integ

            def offline_end(t):
                for a, b in offline:
                    if a <= t < b:
                        return b
                return None
            uploads = []
            queue = []
            T = fl[0][0] + rng.uniform(0, dev["upload_every"])
            i, reconnect = 0, False
            session = [None, 0.0]
            while i < len(fl) or queue:
                if i < len(fl) and fl[i][0] <= T:
                    f = fl[i]
                    queue.append(f)
                    i += 1
                    if f[2].get("kind") == "checkin" and offline_end(f[0]) is None:
                        T = min(T, f[0] + rng.uniform(1, 6))
                    continue
                if not queue:
                    T = fl[i][0] + rng.uniform(1, dev["upload_every"])
                    continue
                b = offline_end(T)
                if b is not None:
                    T, reconnect = b + rng.uniform(5, 60), True
                    continue
                if reconnect:
                    live = [q for q in queue if q[0] >= T - 120]
                    old = [q for q in queue if q[0] < T - 120]
                    if live:
                        uploads.append((T, live))
                    for j in range(0, len(old), 50):
                        uploads.append((T + 5 + 5 * j / 50, old[j:j + 50]))
                    reconnect = False
                else:
                    uploads.append((T, queue))
                queue = []
                T += dev["upload_every"] * rng.uniform(0.8, 1.2)
            for up_t, batch in uploads:
                recv = up_t + rng.uniform(0.2, 2.5)
                sent_ms = int(round((up_t + st["skew"]) * 1000))     # the phone's clock when it sent
                ip = batch[-1][2].get("ip")
                if ip is None:
                    if session[0] is None or up_t > session[1]:
                        a, b = rng.choice(CARRIER_NETS[dev["operator"]])
                        session[0] = "%d.%d.%d.%d" % (a, b, rng.randrange(256), rng.randrange(1, 255))
                        session[1] = up_t + rng.uniform(900, 3600)
                    ip = session[0]
                els = []
                for t, el, meta in batch:
                    el["client_ip"] = ip
                    els.append(el)
                    if meta.get("kind") == "checkin":
                        self.record_checkin(day, dev, t, el, meta, recv, fl)
                self.uploads.append((recv, uid, day, els, sent_ms))

    def integrity(self, rng, dev, meta):
        """The app-integrity summary the back end checked with a check-in:
        Play Integrity where Google services exist, App Attest on iPhones,
        nothing on most Chinese Android and HarmonyOS phones."""
        if dev["platform"] == "ios":
            return {"basic": True, "device": True} if rng.random() < 0.95 else None
        if dev["kind"] == "emulator":
            return {"basic": False, "device": False, "strong": False} if rng.random() < 0.5 else None
        if not dev["gms"]:
            return None
        if meta.get("hide"):
            if rng.random() < 0.6:              # root hidden from the check as well
                return {"basic": True, "device": True, "strong": False}
            return {"basic": True, "device": False, "strong": False}
        if dev["integrity_bad"]:
            return {"basic": True, "device": False, "strong": False}
        return {"basic": True, "device": True, "strong": dev["strong"]}

    def record_checkin(self, day, dev, t, el, meta, recv, fl):
        """The ground truth of a check-in, and (for genuine ones) what an
        attacker could have recorded there for a later replay."""
        w, site = meta["worker"], meta["site"]
        label = meta.get("label")
        is_attack = label in ATTACKS
        if not is_attack and label is None:
            if dev["shared_pool"]:
                label = "shared_pool"
            elif dev["external_gnss"]:
                label = "rtk_receiver"
            elif site["replaced_day"] is not None and day >= site["replaced_day"]:
                label = "replaced_ap"
            elif recv - t > 900:
                label = "offline_queue"
            elif site["env"] == "rural" and site["city"] == 0:
                label = "rural_cell"
            else:
                label = "genuine"
        self.checkins.append({
            "device_uid": el["device_uid"], "recorded_at_ms": el["recorded_at"], "worker_ref": w["ref"],
            "site_ref": site["ref"], "label": label, "is_attack": 1 if is_attack else 0, "day": day,
            "split": "warmup" if day < self.a.warmup_days else "eval", "variant": meta.get("variant", ""),
            "platform": dev["platform"], "received_ms": int(round(recv * 1000)),
            "fold": hkey(self.seed, 90, w["idx"]) % 5})
        if not is_attack and label != "buddy" and el.get("wifi") and dev["owner"] == w["ref"]:
            track = [(ft, dict(fe), abs(ft - t) < 0.5) for ft, fe, _m in fl if t - 600 <= ft <= t + 600]
            self.recordings.setdefault((w["ref"], site["ref"]), []).append(
                {"checkin_t": t, "scan": [(a["bssid"], a["rssi_dbm"]) for a in el["wifi"]],
                 "cells": el.get("cells") or [], "fixes": track})


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

def write_out(g, out):
    os.makedirs(out, exist_ok=True)
    main = g.cities[0]
    sites = []
    for s in g.sites:
        sites.append({"external_ref": s["ref"], "name": s["name"], "lat": s["pin"][0], "lon": s["pin"][1],
                      "city": g.cities[s["city"]].name, "env": s["env"], "replaced_day": s["replaced_day"]})
    workers = [{"external_ref": w["ref"], "name": w["name"], "role": w["role"],
                "attacker": w in g.attackers, "techniques": w.get("techniques", [])} for w in g.workers]
    devices = []
    for d in g.devices:
        devices.append({"device_uid": d["uid"], "platform": d["platform"], "model": d["model"],
                        "owner": d["owner"], "kind": d["kind"], "shared_pool": d["shared_pool"],
                        "external_gnss": d["external_gnss"]})
    bindings = []
    for b in g.bindings:
        bindings.append({"device_uid": b["device_uid"], "worker_ref": b["worker_ref"],
                         "bound_at": iso(b["bound_at"]),
                         "unbound_at": iso(b["unbound_at"]) if b["unbound_at"] is not None else None,
                         "unbound_reason": b["reason"]})
    setup = {"seed": g.seed, "world": g.world, "city": main.name, "time_zone": "Asia/Shanghai",
             "dates": [d.isoformat() for d in g.dates], "warmup_days": g.a.warmup_days,
             "sites": sites, "workers": workers, "devices": devices, "bindings": bindings}
    with open(os.path.join(out, "setup.json"), "w", encoding="utf-8") as f:
        json.dump(setup, f, ensure_ascii=False, indent=1)
    ups = sorted(g.uploads, key=lambda u: (u[0], u[1]))
    with open(os.path.join(out, "batches.jsonl"), "w", encoding="utf-8") as f:
        for recv, uid, day, els, sent_ms in ups:
            clean = [{k: v for k, v in el.items() if v is not None or k in ("lat", "lon")} for el in els]
            f.write(json.dumps({"at": iso(recv), "device_uid": uid, "day": day, "sent_at": sent_ms, "fixes": clean},
                               ensure_ascii=False, separators=(",", ":")) + "\n")
    cols = ["device_uid", "recorded_at_ms", "worker_ref", "site_ref", "label", "is_attack", "day", "split",
            "variant", "platform", "received_ms", "fold"]
    with open(os.path.join(out, "checkins.csv"), "w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, fieldnames=cols)
        wr.writeheader()
        for c in sorted(g.checkins, key=lambda c: (c["recorded_at_ms"], c["device_uid"])):
            wr.writerow(c)
    n_fix = sum(len(u[3]) for u in g.uploads)
    ev = [c for c in g.checkins if c["split"] == "eval"]
    att = sum(c["is_attack"] for c in ev)
    summary = {"fixes": n_fix, "uploads": len(g.uploads), "checkins": len(g.checkins), "eval_checkins": len(ev),
               "eval_attacks": att, "eval_prevalence": round(att / max(1, len(ev)), 4)}
    labels = {}
    for c in ev:
        labels[c["label"]] = labels.get(c["label"], 0) + 1
    summary["eval_labels"] = dict(sorted(labels.items()))
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--world", choices=sorted(WORLDS), default="default")
    ap.add_argument("--days", type=int, default=6, help="evaluation days (attacks and hard negatives)")
    ap.add_argument("--warmup-days", type=int, default=3, help="genuine history first (the radio map learns)")
    ap.add_argument("--workers", type=int, default=40)
    ap.add_argument("--attack-rate", type=float, default=0.04, help="share of evaluation check-ins that are attacks")
    ap.add_argument("--hn-rate", type=float, default=0.025, help="rate of each per-check-in hard negative")
    ap.add_argument("--trip-rate", type=float, default=0.02, help="share of worker-days in another city")
    ap.add_argument("--replaced-ap-share", type=float, default=0.05, help="share of sites whose router is replaced")
    ap.add_argument("--pool-phones", type=int, default=None, help="shared pool phones (default: one per 20 workers)")
    ap.add_argument("--rtk-workers", type=int, default=1)
    ap.add_argument("--site-scale", type=float, default=1.0)
    ap.add_argument("--end-date", default=dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat(),
                    help="first day NOT generated (tenant-local); the days are the ones before it")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.pool_phones is None:
        args.pool_phones = max(1, args.workers // 20)
    g = Gen(args)
    g.run()
    s = write_out(g, args.out)
    print(json.dumps(s, ensure_ascii=False))


if __name__ == "__main__":
    main()
