"""Import a CRM export into canonical tables: mapping -> read -> transform -> validate -> write.

The CLI calls `ingest.run.run_import`; every other module is a pure step that it wires together.
"""
