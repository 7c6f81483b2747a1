int store_bad(void);
