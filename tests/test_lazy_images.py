"""scripts/lazy_images.py: inlined frames become files, every image loads lazily."""

import base64
import hashlib
import io
import json
import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from lazy_images import lighten  # noqa: E402


def _png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), colour).save(buffer, format="png")
    return buffer.getvalue()


def test_frames_in_the_widget_state_become_files_and_images_load_lazily(tmp_path):
    frame = _png("red")
    encoded = base64.b64encode(frame).decode()
    value = f'<img alt="a frame" width="1.5" src="data:image/png;base64,{encoded}"/>'
    state = json.dumps({"state": {"m": {"state": {"value": value}}}})
    page = tmp_path / "book" / "part" / "chapter.html"
    page.parent.mkdir(parents=True)
    images = tmp_path / "_images"
    images.mkdir()
    html = ('<p><img alt="figure" src="../../_images/f.png"></p>'
            '<script type="application/vnd.jupyter.widget-state+json">' + state + "</script>"
            '<img loading="eager" alt="kept" src="x.png">')

    lighter = lighten(html, page, images)

    name = hashlib.sha256(frame).hexdigest()[:32] + ".png"
    assert (images / name).read_bytes() == frame
    assert "base64" not in lighter
    # the state is still JSON, its frame a lazy image pointing at the file
    body = lighter.split('+json">')[1].split("</script>")[0]
    shown = json.loads(body)["state"]["m"]["state"]["value"]
    # with its height, in proportion to its width (3 x 2 pixels shown 1.5 wide),
    # so that it keeps its place while it loads
    assert shown == (f'<img loading="lazy" height="1" alt="a frame" width="1.5" '
                     f'src="../../_images/{name}"/>')
    assert '<img loading="lazy" alt="figure" src="../../_images/f.png">' in lighter
    assert '<img loading="eager" alt="kept"' in lighter          # an explicit choice is kept
    assert lighten(lighter, page, images) == lighter              # a second pass changes nothing
