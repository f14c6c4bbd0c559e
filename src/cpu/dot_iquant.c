/* dot_iquant.c - scalar dot products of the i-quants against Q8_K. */
#include "cpu/dot_impl.h"

void rf__dot_fill_iquant(rf_dot_table *t) {
    (void)t;
}
