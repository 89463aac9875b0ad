from cifcheck.cli import main

main()
