"""A converted notebook page keeps only the style rules that can match it
(`notebook.lean_notebook_page`): nbconvert inlines all of JupyterLab's CSS into each."""

from __future__ import annotations

from symbiote_core.figures.site.notebook import lean_notebook_page


def _page(css: str, classes: str = "a d") -> str:
    return f'<div class="{classes}"><style type="text/css">{css}</style></div>'


def test_rules_for_classes_the_page_lacks_are_dropped_and_the_rest_kept() -> None:
    css = (
        '@charset "UTF-8";.a{x:1}.b .c,.a .d{y:2}'
        "@media (max-width:1px){.a{z:3}.q{w:4}}@media print{.q{w:5}}"
        ".a:not(.zz){v:5}@font-face{f:1}div{t:6}"
        ".a :is(.d:hover, .q.r) .d{u:7}:is(.q, .r) .a{s:8}"
    )
    assert lean_notebook_page(_page(css)) == _page(
        ".a{x:1}.a .d{y:2}@media (max-width:1px){.a{z:3}}.a:not(.zz){v:5}@font-face{f:1}div{t:6}"
        ".a :is(.d:hover, .q.r) .d{u:7}:is(.q, .r) .a{s:8}"
    )


def test_cell_ids_are_still_numbered_in_order() -> None:
    page = '<div id="cell-id=9f3a" class="a"></div><div id="cell-id=01bc" class="a"></div>'
    assert lean_notebook_page(page) == (
        '<div id="cell-id=cell-1" class="a"></div><div id="cell-id=cell-2" class="a"></div>'
    )
