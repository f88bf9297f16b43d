"""The web app's routes: `/app/` (the page), `/app/static/...` (its script and style) and
`/app/vendor/vis-network.min.js` (the drawing library, from the `pyvis` wheel).

Every asset comes from this server: the page's Content-Security-Policy allows nothing else.
"""

from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from core.wheel_data import WheelDataMissingError, wheel_file
from outputs.viewer import VIS_DISTRIBUTION, VIS_SCRIPT

STATIC = Path(__file__).parent / "static"
PREFIX = "/app"
STATIC_MOUNT = "webapp-static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""vis-network sets inline styles on the elements it draws; scripts come only from here."""
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("")
async def app_root() -> RedirectResponse:
    """`/app` without its slash: the page's relative asset URLs need `/app/`."""
    return RedirectResponse(f"{PREFIX}/", status_code=308)


@router.get("/")
async def index() -> FileResponse:
    """The single page; its views are chosen by the URL's fragment (`#/library`, ...)."""
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )


@router.get("/vendor/vis-network.min.js")
async def vis_network() -> FileResponse:
    """vis-network's script, served from the installed `pyvis` wheel; 503 without it."""
    try:
        path = wheel_file(VIS_DISTRIBUTION, VIS_SCRIPT, "pip install --no-deps pyvis")
    except WheelDataMissingError as error:
        raise HTTPException(503, f"the web app needs vis-network: {error}") from None
    return FileResponse(path, media_type="text/javascript; charset=utf-8", headers=SECURITY_HEADERS)


def mount_app(app: FastAPI) -> None:
    """Serve the web app at `/app/` on `app`; a second call changes nothing."""
    if any(getattr(route, "name", None) == STATIC_MOUNT for route in app.router.routes):
        return
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name=STATIC_MOUNT)
