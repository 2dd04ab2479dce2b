/* PNG screendumps with libpng.  The write goes to PATH.tmp and is renamed
 * into place, so a reader never sees half a file. */
#include "png.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct png_err {
    char *err;
    size_t errlen;
};

static void on_error(png_structp p, png_const_charp msg)
{
    struct png_err *e = png_get_error_ptr(p);
    if (e && e->err)
        snprintf(e->err, e->errlen, "png: %s", msg);
    png_longjmp(p, 1);
}

static void on_warning(png_structp p, png_const_charp msg)
{
    (void)p;
    (void)msg;
}

/* Everything libpng touches lives here, so nothing the setjmp() frame
 * modifies has to be volatile. */
struct png_job {
    FILE *f;
    png_structp png;
    png_infop info;
    uint8_t *row;
};

static int write_rows(struct png_job *j, const uint32_t *pixels, int width, int height)
{
    if (setjmp(png_jmpbuf(j->png)))
        return -1;
    png_init_io(j->png, j->f);
    png_set_IHDR(j->png, j->info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(j->png, 1);     /* screendumps: speed over size */
    png_write_info(j->png, j->info);
    for (int y = 0; y < height; y++) {
        const uint32_t *src = pixels + (size_t)y * (size_t)width;
        for (int x = 0; x < width; x++) {
            j->row[3 * x] = (uint8_t)(src[x] >> 16);
            j->row[3 * x + 1] = (uint8_t)(src[x] >> 8);
            j->row[3 * x + 2] = (uint8_t)src[x];
        }
        png_write_row(j->png, j->row);
    }
    png_write_end(j->png, NULL);
    return 0;
}

int png_write_xrgb(const char *path, const uint32_t *pixels, int width, int height,
                   char *err, size_t errlen)
{
    struct png_err e = { err, errlen };
    struct png_job j = { 0 };
    char tmp[4096];
    int rc = -1;
    if (width <= 0 || height <= 0 || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "png: bad image or path");
        return -1;
    }
    j.f = fopen(tmp, "wb");
    if (!j.f) {
        snprintf(err, errlen, "png: cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    j.row = malloc((size_t)width * 3);
    j.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    j.info = j.png ? png_create_info_struct(j.png) : NULL;
    if (!j.row || !j.info)
        snprintf(err, errlen, "png: out of memory");
    else
        rc = write_rows(&j, pixels, width, height);
    png_destroy_write_struct(&j.png, &j.info);
    free(j.row);
    if (fclose(j.f) != 0 && rc == 0) {
        snprintf(err, errlen, "png: writing %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, errlen, "png: cannot rename to %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        remove(tmp);
    return rc;
}

static int read_rows(struct png_job *j, uint32_t **pixels, int *width, int *height)
{
    if (setjmp(png_jmpbuf(j->png)))
        return -1;
    png_init_io(j->png, j->f);
    png_read_info(j->png, j->info);
    png_uint_32 w = png_get_image_width(j->png, j->info);
    png_uint_32 h = png_get_image_height(j->png, j->info);
    int type = png_get_color_type(j->png, j->info);
    if (png_get_bit_depth(j->png, j->info) != 8 ||
        (type != PNG_COLOR_TYPE_RGB && type != PNG_COLOR_TYPE_RGB_ALPHA) || w == 0 || h == 0 ||
        w > 16384 || h > 16384)
        png_error(j->png, "unsupported PNG (want 8-bit RGB/RGBA)");
    unsigned ch = type == PNG_COLOR_TYPE_RGB ? 3 : 4;
    j->row = malloc((size_t)w * ch);
    *pixels = malloc((size_t)w * h * sizeof(uint32_t));
    if (!j->row || !*pixels)
        png_error(j->png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) {
        png_read_row(j->png, j->row, NULL);
        for (png_uint_32 x = 0; x < w; x++) {
            const uint8_t *p = j->row + (size_t)x * ch;
            (*pixels)[(size_t)y * w + x] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
    }
    *width = (int)w;
    *height = (int)h;
    return 0;
}

int png_read_xrgb(const char *path, uint32_t **pixels, int *width, int *height, char *err,
                  size_t errlen)
{
    struct png_err e = { err, errlen };
    struct png_job j = { 0 };
    *pixels = NULL;
    j.f = fopen(path, "rb");
    if (!j.f) {
        snprintf(err, errlen, "png: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    j.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    j.info = j.png ? png_create_info_struct(j.png) : NULL;
    int rc = j.info ? read_rows(&j, pixels, width, height) : -1;
    png_destroy_read_struct(&j.png, &j.info, NULL);
    free(j.row);
    fclose(j.f);
    if (rc != 0) {
        free(*pixels);
        *pixels = NULL;
    }
    return rc;
}
