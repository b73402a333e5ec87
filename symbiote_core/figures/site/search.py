"""The search index loads when the reader opens search, not with every page.

Material's bundle requests `search/search_index.json` (a few hundred KB: every page's
text) as soon as a page loads, whether or not the reader ever searches. A small script,
put in each page's head before the bundle, holds that one request until the reader
opens search (a click or tap on the search button or field, the search shortcut keys,
or a page opened with a search query), then sends it: the bundle's search works as
before, from the moment the index arrives ("Initializing search" until then).
"""

from __future__ import annotations

import re

ON_DEMAND_JS = r"""
(function () {
  var held = [], wanted = /[?&]q=/.test(location.search);
  var open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__symIndex = /search\/search_index\.json(\?|$)/.test(String(url));
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.__symIndex && !wanted) { held.push([this, arguments]); return; }
    return send.apply(this, arguments);
  };
  function want() {
    if (wanted) return;
    wanted = true;
    held.splice(0).forEach(function (h) { send.apply(h[0], h[1]); });
  }
  window.symSearchWanted = function () { return wanted; };
  function opens(event) {
    var t = event.target;
    return t && t.closest && t.closest("label[for='__search'], .md-search, #__search");
  }
  document.addEventListener("click", function (e) { if (opens(e)) want(); }, true);
  document.addEventListener("focusin", function (e) { if (opens(e)) want(); }, true);
  document.addEventListener("change", function (e) { if (opens(e)) want(); }, true);
  document.addEventListener("keydown", function (e) {
    var t = e.target, typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (!typing && !e.ctrlKey && !e.metaKey && !e.altKey && /^[\/sf]$/i.test(e.key)) want();
  }, true);
})();
"""
"""Runs before the theme's bundle: holds the index request until search is opened."""


def defer_search_index(output: str) -> str:
    """A finished page with the on-demand script at the top of its head (before any
    script that could request the index). Pages without Material's search are left as
    they are."""
    head = _HEAD.search(output)
    if head is None or 'name="search"' not in output:
        return output
    script = " ".join(line.strip() for line in ON_DEMAND_JS.strip().splitlines())
    return f"{output[: head.end()]}<script>{script}</script>{output[head.end() :]}"


_HEAD = re.compile(r"<head\b[^>]*>", re.I)
