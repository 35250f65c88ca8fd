"""sbx's in-sandbox strategy runner (see docs/strategy.md)."""
import os


def source_files(directory):
    """{file name: (device, inode, size, mtime)} of the package's modules:
    what run.py compares to tell whether a copy of the package imported
    earlier (a pool zygote's --preload) came from the very same files."""
    files = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            st = os.stat(os.path.join(directory, name))
            files[name] = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    return files


SOURCE_FILES = source_files(os.path.dirname(os.path.abspath(__file__)))
