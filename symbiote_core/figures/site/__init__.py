"""The MkDocs site: the essay's pages with live figures, values and claims.

`hooks` (what mkdocs.yml names) drives `adapter` (`EssaySite`: builds stale figures and
fills pages); `markup` (directives in pages), `claims_page`, `methods_page` and
`sourcetext` (the appendices), `citations` and `publication` (bibliography, citation
files, history), `notebook` and `notebook_cache` (executed notebooks), `page_memo`
(unchanged pages reused), `vendor` (offline JavaScript bundles).
"""
