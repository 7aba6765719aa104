#!/usr/bin/env python3
"""Checks that the load tester's HTML reports render in headless Chromium.

Runs switchboard-loadtest on a bundled scenario (a simulate report and a compare report), then for
each page:
  1. chromium --headless --dump-dom: exits 0, and the DOM it built holds the six charts as SVG
     elements, each found by its title, with their drawn bars and lines, and a caption for each;
  2. chromium --headless --screenshot, once per chart: each chart's figure (with the report's
     style) on a page of its own, so that no chart lies outside the window whatever the report's
     length; each exits 0 and its PNG has the series' colours (the first series' blue, #0072B2,
     or the second's orange, which a comparison of equal runs draws over it) over a substantial
     area.

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
# The charts' titles (html_report.cpp), each drawn once per report.
TITLES = ("Queue depth over time", "How long customers waited", "Service level per interval",
          "Occupancy per agent group", "Decisions spread across agents", "Decision latency")
# Pixels of the first two series' colours a drawn chart has at least: its thinnest mark, the
# depth line, is a 2-pixel line across most of a 900-pixel plot.
MIN_SERIES_PIXELS = 500
BLUE = (0x00, 0x72, 0xB2)  # the first series' colour in svg_chart.cpp's palette
ORANGE = (0xE6, 0x9F, 0x00)  # the second's: a comparison of two equal runs draws B over A


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
    titles = [m.group(1) if m else None for m in (re.search(r"<title>([^<]*)</title>", svg) for svg in svgs)]
    for title in TITLES:
        if titles.count(title) != 1:
            fail("%s: the DOM has %d charts titled %r, expected 1 (titles: %r)"
                 % (page, titles.count(title), title, titles))
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


def near(pixel, colour):
    return all(abs(p - c) <= 8 for p, c in zip(pixel, colour))


def count_pixels(png):
    """(pixels, not white, of the first or second series' colour) of a screenshot."""
    width, height, channels, rows = read_png_rgb(png)
    series = 0
    non_white = 0
    for row in rows:
        for x in range(0, width * channels, channels):
            pixel = (row[x], row[x + 1], row[x + 2])
            if pixel != (255, 255, 255):
                non_white += 1
            if near(pixel, BLUE) or near(pixel, ORANGE):
                series += 1
    return width * height, non_white, series


def check_screenshots(chromium, profile, page):
    """One screenshot per chart: its <figure> with the report's <style>, on a page of its own."""
    with open(page, encoding="utf-8") as f:
        html = f.read()
    style = re.search(r"<style>.*?</style>", html, re.S)
    figures = re.findall(r"<figure>.*?</figure>", html, re.S)
    if style is None or len(figures) != CHARTS:
        fail("%s: %d <figure> elements (expected %d) or no <style>" % (page, len(figures), CHARTS))
    base = page[:-len(".html")]
    for k, figure in enumerate(figures):
        title = re.search(r"<title>([^<]*)</title>", figure)
        name = title.group(1) if title else "?"
        chart_page = "%s-chart%d.html" % (base, k + 1)
        png = "%s-chart%d.png" % (base, k + 1)
        with open(chart_page, "w", encoding="utf-8") as f:
            f.write('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
                    + style.group(0) + "\n</head>\n<body>\n" + figure + "\n</body>\n</html>\n")
        if os.path.exists(png):
            os.remove(png)
        result = run(chromium_args(chromium, profile) +
                     ["--window-size=1000,1000", "--screenshot=" + png, "file://" + chart_page])
        if result.returncode != 0 or not os.path.exists(png):
            fail("chromium --screenshot %s exited %d: %s" % (chart_page, result.returncode,
                                                              result.stderr.decode(errors="replace")[-2000:]))
        total, non_white, drawn = count_pixels(png)
        print("%s: chart %d %r: %.1f%% not white, %d pixels of the series' colours"
              % (os.path.basename(page), k + 1, name, 100.0 * non_white / total, drawn))
        if non_white < total // 100:
            fail("%s: the screenshot of chart %r is (nearly) blank" % (png, name))
        if drawn < MIN_SERIES_PIXELS:
            fail("%s: only %d pixels of the series' colours: chart %r did not render" % (png, drawn, name))


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
        check_screenshots(chromium, profile, page)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
