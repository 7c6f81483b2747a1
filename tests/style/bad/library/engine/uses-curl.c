/* The engine links no libcurl: the checker must refuse this include. */
#include <curl/curl.h>
