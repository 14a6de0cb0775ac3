from okrsite.cli import main

raise SystemExit(main())
