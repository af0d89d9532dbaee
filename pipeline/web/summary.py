"""The summary page (outputs/summary.html) for every role: the file the reports write, served as it is."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.web.guard import require
from pipeline.web.pages import problem_page
from pipeline.web.roles import Role

# summary.html is one self-contained file with its own <style> (it opens from an email too): its
# styles are allowed inline, nothing else is
SUMMARY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'"


def summary(request: Request) -> Response:
    require(request, *Role)
    page = request.app.state.settings.outputs / "summary.html"
    if not page.is_file():
        return problem_page(request, 404, "No summary yet", "The summary page is written by the first run.")
    return Response(page.read_bytes(), media_type="text/html", headers={"Content-Security-Policy": SUMMARY_POLICY})


routes = [Route("/summary", summary)]
