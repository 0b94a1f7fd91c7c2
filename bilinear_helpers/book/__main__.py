"""`python -m bilinear_helpers.book sync`: copy the repository URL of notebooks/_config.yml into the
README's Colab badges and every notebook's Colab cell."""

import sys

from .settings import BOOK_CONFIG, repository, sync_links

if __name__ == "__main__":
    if sys.argv[1:] != ["sync"]:
        sys.exit("usage: python -m bilinear_helpers.book sync   (after editing repository.url in "
                 "notebooks/_config.yml)")
    changed = sync_links()
    print(f"repository {repository().url} (branch {repository().branch}) from {BOOK_CONFIG.name}; "
          f"updated: {', '.join(changed) or 'nothing, every copy already agrees'}")
