"""What a figure module imports: the figure spec (`spec`), the colour roles (`palette`)
and claim wording (`claimtext`).

Nothing here imports the engine, the site, torch or MkDocs.
"""
