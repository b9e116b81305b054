"""The app store: everything users write in the app, in one transactional SQLite file.

- `dashboard.store.db`: generic core (connection, migrations, audited transactions, erasure);
- `dashboard.store.austausch`: exchange between communes (issue #14);
- `python -m dashboard.store migrate|demo|erase …`: command line (see `__main__.py`).

New areas add a migration `migrations/NNNN_<area>.sql`, named queries `queries/<area>.sql` and a
module `<area>.py` with the role checks, the way `austausch.py` does.
"""
