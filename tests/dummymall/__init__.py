"""A mall that exists only in the tests: proves generic code serves any mall.

Installed by ``goq.settings_test`` only. It has a migration, as a real mall would:
its connection refers to ``malls.MallShop``, and PostgreSQL needs that table first.
"""
