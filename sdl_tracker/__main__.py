"""`python -m sdl_tracker` is the `sdl-tracker` command."""

from .entry import main

if __name__ == "__main__":
    main()
