from fangkong.exits.tests.support import compound  # noqa: F401
