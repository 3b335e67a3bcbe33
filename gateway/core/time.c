/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RFC 3339 times as cameras write them: with or without zone, with fractions, with placeholders. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alarmgw/alert.h"

#define TIME_MIN_MS 31536000000LL      /* 1971-01-01T00:00:00Z */
#define TIME_MAX_MS 253402300799999LL  /* 9999-12-31T23:59:59.999Z */

int64_t agw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *agw_time_format_ms(int64_t ms, char *buf, size_t len)
{
	int64_t secs = ms / 1000, rem = ms % 1000;
	if (rem < 0) {
		rem += 1000;
		secs--;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "invalid");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
	return buf;
}

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

static const int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int agw_time_parse_ms(const char *text, int64_t *ret_ms)
{
	if (!text)
		return -EINVAL;
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	int year, mon, day, hour, min, sec;
	if (digits(&p, 4, &year) < 0 || *p++ != '-' || digits(&p, 2, &mon) < 0 || *p++ != '-' ||
	    digits(&p, 2, &day) < 0 || (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	p++;
	if (digits(&p, 2, &hour) < 0 || *p++ != ':' || digits(&p, 2, &min) < 0 || *p++ != ':' || digits(&p, 2, &sec) < 0)
		return -EINVAL;
	/* Cameras whose clock was never set report 1970 (or 0000-00-00): not a usable time. */
	if (year < 1971 || year > 9999 || mon < 1 || mon > 12 || hour > 23 || min > 59 || sec > 60)
		return -EINVAL;
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	int dim = days_in_month[mon - 1] + (mon == 2 && leap);
	if (day < 1 || day > dim)
		return -EINVAL;
	int ms = 0;
	if (*p == '.' || *p == ',') {
		p++;
		int nd = 0;
		while (isdigit((unsigned char)*p)) {
			if (nd < 3)
				ms = ms * 10 + (*p - '0');
			nd++;
			p++;
		}
		if (nd == 0)
			return -EINVAL;
		for (int i = nd; i < 3; i++)
			ms *= 10;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh) < 0)
			return -EINVAL;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
			return -EINVAL;
		offset_min = sign * (oh * 60 + om);
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return -EINVAL;
	struct tm tm = {.tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day, .tm_hour = hour, .tm_min = min,
			.tm_sec = sec > 59 ? 59 : sec};
	time_t t = timegm(&tm);
	int64_t utc_ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + ms;
	/* The same range in UTC: an offset must not carry a time into 1970 or the year 10000, which
	 * could be written (journal, case messages) but never read back. */
	if (utc_ms < TIME_MIN_MS || utc_ms > TIME_MAX_MS)
		return -EINVAL;
	*ret_ms = utc_ms;
	return 0;
}
