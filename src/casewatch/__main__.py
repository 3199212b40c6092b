from casewatch.cli import main

raise SystemExit(main())
