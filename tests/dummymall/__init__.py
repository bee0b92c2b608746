"""A mall that exists only in the tests: proves generic code serves any mall.

Installed by ``goq.settings_test`` only; its tables are created from the models
(no migrations), like any app without a ``migrations`` package.
"""
