"""``genlearn.urls``: the online sources the book names, and the weekly check that they answer, against a local
HTTP server that the test starts (nothing here reaches the internet)."""

import http.server
import threading

import pytest

from genlearn.urls import answers, main, online_sources


class Handler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        if self.path == "/no-head":
            self.send_response(405)  # some hosts refuse HEAD: the check falls back to a 1-byte GET
        else:
            self.send_response(200 if self.path in ("/ok", "/no-head") else 404)
        self.end_headers()

    def do_GET(self):
        ok = self.path == "/no-head" and self.headers.get("Range") == "bytes=0-0"
        self.send_response(206 if ok else 404)
        self.end_headers()
        if ok:
            self.wfile.write(b"x")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def test_answers_tells_live_links_from_dead_ones(server):
    assert answers(f"{server}/ok") == (True, "200")
    assert answers(f"{server}/no-head") == (True, "206")
    assert answers(f"{server}/gone") == (False, "HTTP 404")
    ok, reason = answers("http://127.0.0.1:9/", timeout=2)  # nothing listens on the discard port
    assert not ok and "URLError" in reason


def test_every_url_constant_of_the_package_is_checked():
    from torchvision.models import VGG19_Weights

    from genlearn.data.archives import CYCLEGAN_URL, PIX2PIX_URL
    from genlearn.models.fid_inception import WEIGHTS_URL

    urls = [u for _, u in online_sources()]
    assert len(urls) == len(set(urls)) == 8 and all(u.startswith("http") for u in urls)
    assert WEIGHTS_URL in urls and VGG19_Weights.IMAGENET1K_V1.url in urls
    assert PIX2PIX_URL.format(name="facades") in urls and CYCLEGAN_URL.format(name="horse2zebra") in urls
    assert any("drive.google.com" in u for u in urls)  # CelebA's host, the one most often down


def test_the_check_exits_1_when_a_link_is_dead(server, monkeypatch, capsys):
    monkeypatch.setattr("genlearn.urls.online_sources", lambda: [("live", f"{server}/ok"), ("dead", f"{server}/gone")])
    assert main(["--check", "--timeout", "2"]) == 1
    out = capsys.readouterr().out
    assert "ok   live" in out and "FAIL dead" in out and "1 of 2 URLs did not answer" in out
    monkeypatch.setattr("genlearn.urls.online_sources", lambda: [("live", f"{server}/ok")])
    assert main(["--check"]) == 0 and "every URL answered" in capsys.readouterr().out
