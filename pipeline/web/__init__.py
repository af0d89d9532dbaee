"""The admin's review desk (`coforms web`): a small server-rendered web app on the warehouse.

Three roles: admin (review and act), finance (vouchers, read-only), viewer (the summary only).
Every action goes through the same functions as the command line (pipeline.admin.actions): the
app implements no rule of its own. Pages open the warehouse for the request and close it, so a
run (which needs the embedded warehouse to itself) is never blocked for long by the app.
"""
