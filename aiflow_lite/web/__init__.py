"""`aiflow webserver`: a web UI and a JSON REST API over a home, in one process (Starlette on
uvicorn, Jinja2 with autoescape, assets shipped in the package: nothing from a CDN).

It reads the home's database directly and writes only through `ops`, so it works with or
without `aiflow server`. Live pages get Server-Sent Events fed by the event log's wake-up.

`context` (settings, security), `live` (the wake-up -> SSE hub), `api` (/api/v1), `pages` (HTML),
`app` (assembly), `serve` (the process), `command` (the click commands)."""
