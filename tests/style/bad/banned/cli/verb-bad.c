/* Two banned calls the checker must find. */
#include <string.h>
void f(char *dst, const char *src);
void f(char *dst, const char *src)
{
    strcpy(dst, src);
    exit(1);
}
