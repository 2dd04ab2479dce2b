/* PNG screendumps (libpng). */
#ifndef MINUS1_PNG_H
#define MINUS1_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Writes a width x height XRGB (0x00RRGGBB) image as an 8-bit RGB PNG.
 * Returns 0, or -1 with a one-line message in err. */
int png_write_xrgb(const char *path, const uint32_t *pixels, int width, int height,
                   char *err, size_t errlen);

/* Reads an 8-bit RGB or RGBA PNG back into a malloc'ed XRGB buffer (for
 * tests and for comparing screendumps).  Returns 0 or -1. */
int png_read_xrgb(const char *path, uint32_t **pixels, int *width, int *height, char *err,
                  size_t errlen);

#endif
