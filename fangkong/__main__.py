from fangkong.cli import main

raise SystemExit(main())
