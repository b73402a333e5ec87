"""A static, offline feature browser: one index of latents, one lazily loaded file each.

    out/index.html         the sortable index (a summary row per latent, inlined)
    out/latents/0007.js    latent 7's examples and effect, loaded when it is opened
    out/browser.js, .css   the viewer (vanilla JS, no network, no CDN)

Per-latent files are scripts (`SymbioteBrowser.receive(7, {...})`) rather than JSON so
the browser also works opened straight from disk (`file://`, where `fetch` is refused).
Every string from the model (tokens, labels) is set with `textContent` by the viewer,
never parsed as HTML; JSON inlined in a script is escaped so `</script>` cannot end it.
The index stays small at any size (about 150 bytes a latent); examples load on demand.
"""

from __future__ import annotations

import dataclasses
import html
import json
import shutil
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from symbiote_core.browser.latents import Example, LabelMatch, Latent

ASSETS = ("browser.js", "browser.css")


def write_browser(
    latents: Sequence[Latent],
    out_dir: str | Path,
    *,
    title: str,
    description: str = "",
    links: Mapping[str, str] | None = None,
) -> Path:
    """Write the browser for `latents` into `out_dir` (created; old latent files removed);
    returns the index path. `links` adds named links to the header (e.g. the figure)."""
    out = Path(out_dir)
    if (out / "latents").exists():
        shutil.rmtree(out / "latents")
    for path, text in browser_files(
        latents, title=title, description=description, links=links
    ).items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return out / "index.html"


def browser_files(
    latents: Sequence[Latent],
    *,
    title: str,
    description: str = "",
    links: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The browser's files as {relative path: text}, for a caller that writes them itself
    (the essay's site adds them to the MkDocs build)."""
    files: dict[str, str] = {}
    for name in ASSETS:
        source = resources.files("symbiote_core.browser").joinpath("assets", name)
        files[name] = source.read_text(encoding="utf-8")
    for latent in latents:
        payload = _json({"index": latent.index, **_detail(latent)})
        files[f"latents/{latent.index:04d}.js"] = (
            f"SymbioteBrowser.receive({latent.index}, {payload});\n"
        )
    rows = [_row(latent) for latent in latents]
    header_links = "".join(
        f'<a href="{html.escape(url, quote=True)}">{html.escape(name)}</a> '
        for name, url in (links or {}).items()
    )
    files["index.html"] = _PAGE.format(
        title=html.escape(title),
        description=html.escape(description),
        links=header_links,
        rows=_json(rows),
        count=len(rows),
    )
    return files


def to_payload(latents: Sequence[Latent], *, title: str, description: str = "") -> dict[str, Any]:
    """Plain JSON of a browser, for a figure's compute to return under
    `data["feature_browser"]`: the site then publishes it at `browser/<figure>/`."""
    return {
        "title": title,
        "description": description,
        "latents": [dataclasses.asdict(latent) for latent in latents],
    }


def from_payload(payload: Mapping[str, Any]) -> list[Latent]:
    """The `Latent`s of a `to_payload` dict (read back from a figure's data.json)."""
    out = []
    for item in payload["latents"]:
        examples = tuple(
            Example(
                context=e["context"],
                position=e["position"],
                tokens=tuple(e["tokens"]),
                acts=tuple(e["acts"]),
                focus=e["focus"],
            )
            for e in item["examples"]
        )
        match = LabelMatch(**item["match"]) if item.get("match") else None
        out.append(
            Latent(
                index=item["index"],
                density=item["density"],
                max_act=item["max_act"],
                mean_active=item["mean_active"],
                examples=examples,
                match=match,
                effect=item.get("effect"),
                notes=item.get("notes") or {},
            )
        )
    return out


def _row(latent: Latent) -> dict[str, Any]:
    match = latent.match
    return {
        "i": latent.index,
        "density": round(latent.density, 6),
        "max": round(latent.max_act, 4),
        "label": match.label if match else None,
        "f1": round(match.f1, 4) if match else None,
        "kl": round(float(latent.effect["kl"]), 6) if latent.effect else None,  # type: ignore[arg-type]
    }


def _detail(latent: Latent) -> dict[str, Any]:
    return {
        "density": latent.density,
        "max": latent.max_act,
        "mean_active": latent.mean_active,
        "match": dataclasses.asdict(latent.match) if latent.match else None,
        "effect": latent.effect,
        "notes": dict(latent.notes),
        "examples": [dataclasses.asdict(example) for example in latent.examples],
    }


def _json(value: Any) -> str:
    """JSON safe inside a <script>: no `</`, no U+2028/9 line breaks."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="browser.css">
</head>
<body>
<header>
<h1>{title}</h1>
<p class="description">{description}</p>
<p class="links">{links}</p>
</header>
<main>
<section class="index" aria-label="Latents">
<p><label>Filter by label <input id="filter" type="search" autocomplete="off"></label>
<span id="shown">{count}</span> of {count} latents</p>
<table id="latents">
<thead><tr>
<th><button data-key="i">latent</button></th>
<th><button data-key="density">density</button></th>
<th><button data-key="max">max act.</button></th>
<th><button data-key="label">best label</button></th>
<th><button data-key="f1">F1</button></th>
<th><button data-key="kl">steering KL</button></th>
</tr></thead>
<tbody></tbody>
</table>
</section>
<section id="detail" class="detail" aria-live="polite" hidden></section>
</main>
<script type="application/json" id="rows">{rows}</script>
<script src="browser.js"></script>
</body>
</html>
"""
