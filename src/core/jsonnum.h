/* JSON numbers as people read them: v with a fixed number of decimals (json-c
 * alone would print 0.1 as 0.10000000000000001; 0 decimals gives an integer),
 * NULL (JSON null) when v is NaN or infinite. Apart from core/util so that
 * util stays free of json-c for the small test programs that link it. */
#ifndef AUTONOMY_JSONNUM_H
#define AUTONOMY_JSONNUM_H

struct json_object;

struct json_object *json_fixed(double v, int decimals);

#endif
