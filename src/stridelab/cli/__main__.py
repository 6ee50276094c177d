from stridelab.cli import main

main()
