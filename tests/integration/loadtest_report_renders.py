#!/usr/bin/env python3
"""Checks that the load tester's HTML reports render in headless Chromium.

Runs switchboard-loadtest on a bundled scenario (a simulate report and a compare report), then for
each page:
  1. chromium --headless --dump-dom: exits 0, and the DOM it built holds the six charts as SVG
     elements (with their drawn bars and lines) and a caption for each;
  2. chromium --headless --screenshot: exits 0, and the PNG is not blank: it has the charts'
     colours (the first series' blue, #0072B2) over a substantial area.

Exit status: 0 passed, 1 failed, 77 skipped (no Chromium on this machine; CI installs it through
tools/install-deps, so the check runs there).

  loadtest_report_renders.py SWITCHBOARD_LOADTEST SCENARIO WORK_DIR
"""

import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

SKIP = 77
CHARTS = 6
BLUE = (0x00, 0x72, 0xB2)  # the first series' colour in svg_chart.cpp's palette


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_args(chromium, profile):
    # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
    # A profile of our own: no state is shared with (or left in) the user's.
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--user-data-dir=" + profile]


def run(args, timeout=120):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def read_png_rgb(path):
    """Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes) into rows of bytes
    with 3 or 4 bytes per pixel; returns (width, height, channels, rows)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + ": not a PNG")
    pos = 8
    idat = b""
    width = height = channels = None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace != 0:
                fail("%s: PNG format %d/%d/%d not handled" % (path, depth, colour, interlace))
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                row[i] = (row[i] + row[i - channels]) & 0xFF
        elif kind == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, previous))
        elif kind == 3:
            for i in range(stride):
                left = row[i - channels] if i >= channels else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = row[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 0xFF
        elif kind != 0:
            fail("%s: unknown PNG filter %d" % (path, kind))
        rows.append(bytes(row))
        previous = row
    return width, height, channels, rows


def check_dom(chromium, profile, page):
    result = run(chromium_args(chromium, profile) + ["--dump-dom", "file://" + page])
    if result.returncode != 0:
        fail("chromium --dump-dom %s exited %d: %s" % (page, result.returncode,
                                                        result.stderr.decode(errors="replace")[-2000:]))
    dom = result.stdout.decode("utf-8", errors="replace")
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", dom, re.S)
    if len(svgs) != CHARTS:
        fail("%s: the DOM has %d <svg> elements, expected %d" % (page, len(svgs), CHARTS))
    for svg in svgs:
        title = re.search(r"<title>([^<]*)</title>", svg)
        name = title.group(1) if title else "?"
        drawn = len(re.findall(r'<(rect class="bar"|polyline class="line"|circle class="point")', svg))
        if drawn == 0 and "no data" not in svg:
            fail("%s: chart %r has nothing drawn" % (page, name))
        if len(re.findall(r'class="tick-label"', svg)) < 2:
            fail("%s: chart %r has no tick labels" % (page, name))
    captions = re.findall(r"<figcaption>", dom)
    if len(captions) != CHARTS:
        fail("%s: %d captions, expected %d" % (page, len(captions), CHARTS))
    for forbidden in ("<script", "<link", "<img", "@import"):
        if forbidden in dom:
            fail("%s: the DOM has %s: the report must be self-contained" % (page, forbidden))
    print("%s: DOM has %d charts, each with marks and ticks, and %d captions"
          % (os.path.basename(page), len(svgs), len(captions)))


def check_screenshot(chromium, profile, page, png):
    if os.path.exists(png):
        os.remove(png)
    result = run(chromium_args(chromium, profile) +
                 ["--window-size=1000,2600", "--screenshot=" + png, "file://" + page])
    if result.returncode != 0 or not os.path.exists(png):
        fail("chromium --screenshot %s exited %d: %s" % (page, result.returncode,
                                                          result.stderr.decode(errors="replace")[-2000:]))
    width, height, channels, rows = read_png_rgb(png)
    blue = 0
    non_white = 0
    for row in rows:
        for x in range(0, width * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if (r, g, b) != (255, 255, 255):
                non_white += 1
            if abs(r - BLUE[0]) <= 8 and abs(g - BLUE[1]) <= 8 and abs(b - BLUE[2]) <= 8:
                blue += 1
    total = width * height
    print("%s: screenshot %dx%d, %.1f%% not white, %d pixels of the chart blue"
          % (os.path.basename(page), width, height, 100.0 * non_white / total, blue))
    if non_white < total // 50:
        fail("%s: the screenshot is (nearly) blank" % png)
    # The queue-depth line and the waits, service-level and occupancy bars of the first series
    # are drawn in blue: a rendered page has thousands of such pixels.
    if blue < 2000:
        fail("%s: only %d pixels of the chart colour: the charts did not render" % (png, blue))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    tool, scenario, work = sys.argv[1:]
    chromium = find_chromium()
    if chromium is None:
        print("SKIP: no chromium on PATH (tools/install-deps installs Debian's chromium)")
        return SKIP
    os.makedirs(work, exist_ok=True)
    work = os.path.abspath(work)
    profile = os.path.join(work, "chromium-profile")

    report = os.path.join(work, "report.html")
    compare = os.path.join(work, "compare.html")
    for args in ([tool, "simulate", scenario, "--replications", "2", "--progress", "off",
                  "--html", report],
                 [tool, "compare", scenario, "--replications", "2", "--progress", "off",
                  "--label-a", "A: as written", "--label-b", "B: as written, again",
                  "--html", compare]):
        result = run(args, timeout=300)
        if result.returncode != 0:
            fail("%s exited %d: %s" % (" ".join(args), result.returncode,
                                       result.stderr.decode(errors="replace")[-2000:]))
    for page in (report, compare):
        check_dom(chromium, profile, page)
        check_screenshot(chromium, profile, page, page[:-len(".html")] + ".png")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
