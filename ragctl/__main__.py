from ragctl.cli.app import main

main()
