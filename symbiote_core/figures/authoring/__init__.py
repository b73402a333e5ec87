"""What a figure module imports: the figure spec (`spec`), the colour roles (`palette`),
claim wording (`claimtext`), and the template `figures new` writes (`scaffold`).

Nothing here imports the engine, the site, torch or MkDocs.
"""
