from docgap.cli import main

main()
