"""The synthetic demo city of 长春市, April 2022 (`fangkong demo`): `city` generates it with
numpy, `build` loads it through ingestion and creates the demo staff accounts."""
