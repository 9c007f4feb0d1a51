from gallery.filenames import MAX_FILENAME_CHARS, sanitize_filename


def test_directories_are_dropped_whatever_the_separator() -> None:
    assert sanitize_filename("../../a/b/c.CR2") == "c.CR2"
    assert sanitize_filename("C:\\Users\\me\\IMG_0001.JPG") == "IMG_0001.JPG"


def test_names_that_are_only_dots_or_controls_get_a_fallback() -> None:
    assert sanitize_filename("..") == "upload"
    assert sanitize_filename("\x00\x01\x02") == "upload"


def test_unicode_is_normalised_and_kept() -> None:
    decomposed = "Cafe\u0301 à Paris.jpg"
    assert sanitize_filename(decomposed) == "Café à Paris.jpg"


def test_long_names_keep_their_extension() -> None:
    name = sanitize_filename("x" * 1000 + ".nef")
    assert len(name) == MAX_FILENAME_CHARS
    assert name.endswith(".nef")
