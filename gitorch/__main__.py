"""``python -m gitorch``."""

from gitorch.cli import main

if __name__ == "__main__":
    main()
