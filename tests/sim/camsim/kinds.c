/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"

/* Topics and item names as real cameras send them (see ONVIF-NOTES.md); ordered so that kinds
 * sharing a topic root are adjacent, which GetEventProperties relies on to nest them. */
const struct camsim_kind camsim_kinds[CAMSIM_KIND_COUNT] = {
	{"motion", "tns1:RuleEngine/CellMotionDetector/Motion", "MyMotionDetectorRule", "IsMotion", NULL, NULL,
	 CAMSIM_SOURCE_RULE},
	{"tamper", "tns1:RuleEngine/TamperDetector/Tamper", "MyTamperDetectorRule", "IsTamper", NULL, NULL,
	 CAMSIM_SOURCE_RULE},
	{"line", "tns1:RuleEngine/LineDetector/Crossed", "MyLineDetectorRule", NULL, "ObjectId", "1",
	 CAMSIM_SOURCE_RULE},
	{"intrusion", "tns1:RuleEngine/FieldDetector/ObjectsInside", "MyFieldDetectorRule", "IsInside", NULL, NULL,
	 CAMSIM_SOURCE_RULE},
	/* a vendor topic the gateway's table does not map (Reolink's package detection): it must
	 * arrive as kind "other" with its raw topic, never be dropped */
	{"package", "tns1:RuleEngine/MyRuleDetector/Package", NULL, "State", NULL, NULL, CAMSIM_SOURCE_VIDEO},
	{"motionalarm", "tns1:VideoSource/MotionAlarm", NULL, "State", NULL, NULL, CAMSIM_SOURCE_VIDEO},
	{"scenechange", "tns1:VideoSource/GlobalSceneChange/ImagingService", NULL, "State", NULL, NULL,
	 CAMSIM_SOURCE_VIDEO},
	{"input", "tns1:Device/Trigger/DigitalInput", NULL, "LogicalState", NULL, NULL, CAMSIM_SOURCE_INPUT},
};

int camsim_kind_find(const char *name)
{
	for (int i = 0; i < CAMSIM_KIND_COUNT; i++)
		if (strcmp(camsim_kinds[i].name, name) == 0)
			return i;
	return -ENOENT;
}

int camsim_mix_parse(const char *s, double weights[CAMSIM_KIND_COUNT])
{
	double w[CAMSIM_KIND_COUNT] = {0}, sum = 0;
	const char *p = s;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[64];
		if (n == 0 || n >= sizeof(item))
			return -EINVAL;
		memcpy(item, p, n);
		item[n] = '\0';
		char *eq = strchr(item, '=');
		double v = 1;
		if (eq) {
			*eq = '\0';
			char *e;
			v = strtod(eq + 1, &e);
			if (e == eq + 1 || *e || !(v >= 0) || v > 1e6)
				return -EINVAL;
		}
		int k = camsim_kind_find(item);
		if (k < 0)
			return -EINVAL;
		w[k] = v;
		sum += v;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!(sum > 0))
		return -EINVAL;
	memcpy(weights, w, sizeof(w));
	return 0;
}
