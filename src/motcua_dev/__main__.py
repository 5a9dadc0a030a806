from motcua_dev.cli import main

main()
