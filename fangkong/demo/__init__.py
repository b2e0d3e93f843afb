"""The synthetic demo city of 长春市, April 2022 (`fangkong demo`): `city` generates it with numpy
(from `geography`, `people`, `rounds`, `contacts`), `build` loads it through ingestion, `accounts`
creates the demo staff accounts, `story` replays April 2022 and `clearances` and `gates` set the
desks and checkpoints at today's date."""
