from mdfollow.cli import main

main()
