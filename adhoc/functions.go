package adhoc

import "strings"

// functionFamilies is the curated allow-list of functions tenant SQL may
// call, by family. Anything not listed is refused; in particular table
// functions, dictionaries, functions that read the server's environment
// or files, and IN-style functions that take a table name.
var functionFamilies = map[string][]string{
	"aggregate": {
		"count", "sum", "avg", "min", "max", "any", "anyLast", "anyHeavy", "argMin", "argMax",
		"uniq", "uniqExact", "uniqCombined", "uniqCombined64", "uniqHLL12",
		"quantile", "quantiles", "quantileExact", "quantilesExact", "quantileTDigest",
		"quantilesTDigest", "quantileTiming", "median", "medianExact",
		"groupArray", "groupUniqArray", "groupArraySorted", "topK", "topKWeighted",
		"stddevPop", "stddevSamp", "varPop", "varSamp", "covarPop", "covarSamp", "corr",
		"avgWeighted", "histogram", "windowFunnel", "retention", "sequenceMatch", "sequenceCount",
		"sumMap", "minMap", "maxMap", "entropy", "skewPop", "kurtPop", "deltaSum", "groupConcat",
		"first_value", "last_value", "any_value",
	},
	"window": {
		"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
		"lagInFrame", "leadInFrame", "nth_value",
	},
	"date/time": {
		"now", "now64", "today", "yesterday", "toDate", "toDate32", "toDateTime", "toDateTime64",
		"toYear", "toQuarter", "toMonth", "toDayOfMonth", "toDayOfWeek", "toDayOfYear", "toHour",
		"toMinute", "toSecond", "toISOWeek", "toISOYear", "toWeek", "toYearWeek",
		"toStartOfYear", "toStartOfQuarter", "toStartOfMonth", "toStartOfWeek", "toMonday",
		"toStartOfDay", "toStartOfHour", "toStartOfMinute", "toStartOfFiveMinutes",
		"toStartOfTenMinutes", "toStartOfFifteenMinutes", "toStartOfInterval", "toLastDayOfMonth",
		"toYYYYMM", "toYYYYMMDD", "toUnixTimestamp", "fromUnixTimestamp", "toRelativeDayNum",
		"dateDiff", "date_diff", "age", "dateAdd", "dateSub", "date_add", "date_sub",
		"dateTrunc", "date_trunc", "addSeconds", "addMinutes", "addHours", "addDays", "addWeeks",
		"addMonths", "addQuarters", "addYears", "subtractSeconds", "subtractMinutes",
		"subtractHours", "subtractDays", "subtractWeeks", "subtractMonths", "subtractQuarters",
		"subtractYears", "formatDateTime", "parseDateTimeBestEffort", "parseDateTimeBestEffortOrNull",
		"parseDateTime64BestEffort", "toTimeZone", "timeSlot", "makeDate", "makeDateTime",
		"toIntervalSecond", "toIntervalMinute", "toIntervalHour", "toIntervalDay",
		"toIntervalWeek", "toIntervalMonth", "toIntervalQuarter", "toIntervalYear",
	},
	"math": {
		"abs", "round", "roundBankers", "floor", "ceil", "trunc", "sqrt", "cbrt", "exp", "exp2",
		"exp10", "log", "ln", "log2", "log10", "pow", "power", "greatest", "least", "intDiv",
		"intDivOrZero", "modulo", "moduloOrZero", "negate", "sign", "plus", "minus", "multiply",
		"divide", "isNaN", "isFinite", "isInfinite", "pi", "e", "sin", "cos", "tan",
		"equals", "notEquals", "less", "greater", "lessOrEquals", "greaterOrEquals",
		"and", "or", "not", "xor",
	},
	"string": {
		"length", "lengthUTF8", "lower", "upper", "lowerUTF8", "upperUTF8", "concat",
		"concatWithSeparator", "substring", "substr", "substringUTF8", "left", "right",
		"trim", "trimLeft", "trimRight", "trimBoth", "ltrim", "rtrim", "replaceAll", "replaceOne",
		"replaceRegexpAll", "replaceRegexpOne", "position", "positionCaseInsensitive",
		"startsWith", "endsWith", "like", "notLike", "ilike", "notILike", "match", "extract",
		"extractAll", "splitByChar", "splitByString", "splitByRegexp", "arrayStringConcat",
		"leftPad", "rightPad", "lpad", "rpad", "reverse", "repeat", "format", "empty", "notEmpty",
		"countSubstrings", "multiSearchAny", "base64Encode", "hex",
		"cityHash64", "sipHash64", "xxHash64", "MD5", "SHA256",
	},
	"array": {
		"array", "arrayJoin", "has", "hasAll", "hasAny", "indexOf", "arrayMap", "arrayFilter",
		"arrayExists", "arrayAll", "arrayCount", "arraySum", "arrayAvg", "arrayMin", "arrayMax",
		"arraySort", "arrayReverseSort", "arrayDistinct", "arrayUniq", "arrayEnumerate",
		"arrayConcat", "arraySlice", "arrayElement", "arrayFirst", "arrayLast", "arrayZip",
		"arrayCompact", "arrayFlatten", "arrayPushBack", "arrayPushFront", "arrayReverse",
		"range", "tuple", "tupleElement", "mapKeys", "mapValues", "map", "mapContains",
	},
	"JSON": {
		"JSONExtract", "JSONExtractString", "JSONExtractInt", "JSONExtractUInt",
		"JSONExtractFloat", "JSONExtractBool", "JSONExtractRaw", "JSONExtractKeys",
		"JSONExtractArrayRaw", "JSONHas", "JSONLength", "JSONType", "toJSONString",
		"JSONAllPaths", "JSONAllPathsWithTypes", "JSONDynamicPaths", "dynamicType", "variantType",
	},
	"conditional": {
		"if", "multiIf", "ifNull", "nullIf", "coalesce", "assumeNotNull", "isNull", "isNotNull",
		"toNullable", "isZeroOrNull",
	},
	"type conversion": {
		"toInt8", "toInt16", "toInt32", "toInt64", "toUInt8", "toUInt16", "toUInt32", "toUInt64",
		"toFloat32", "toFloat64", "toDecimal32", "toDecimal64", "toDecimal128", "toString",
		"toBool", "toUUID", "toTypeName", "toInt64OrNull", "toInt64OrZero", "toUInt64OrNull",
		"toUInt64OrZero", "toFloat64OrNull", "toFloat64OrZero", "toDateOrNull", "toDateTimeOrNull",
		"toDateTime64OrNull", "toDecimal64OrNull",
	},
}

// aggregateCombinators are the suffixes an aggregate may carry
// (countIf, sumMerge, uniqState, groupArrayDistinct …), longest first.
var aggregateCombinators = []string{"OrDefault", "Distinct", "ForEach", "OrNull", "Merge", "State", "Array", "If"}

// refusalReasons explain refusals of well-known dangerous functions by
// lower-cased name or prefix; other unlisted functions get a generic reason.
var refusalReasons = []struct{ prefix, reason string }{
	{"dict", "dictionaries are not available to ad-hoc queries"},
	{"joinget", "it reads a table without the tenant guard"},
	{"file", "it reads files on the server"},
	{"url", "it reads from the network"},
	{"s3", "it reads from object storage"},
	{"remote", "it reads other servers"},
	{"cluster", "it reads other servers"},
	{"currentuser", "it reads the server environment"},
	{"user", "it reads the server environment"},
	{"hostname", "it reads the server environment"},
	{"fqdn", "it reads the server environment"},
	{"getsetting", "it reads the server environment"},
	{"getmacro", "it reads the server environment"},
	{"getserverport", "it reads the server environment"},
	{"currentdatabase", "it reads the server environment"},
	{"database", "it reads the server environment"},
	{"version", "it reads the server environment"},
	{"uptime", "it reads the server environment"},
	{"timezone", "it reads the server environment"},
	{"servertimezone", "it reads the server environment"},
	{"filesystem", "it reads the server environment"},
	{"in", "it can read a table without the tenant guard: use the IN operator with a list or subquery"},
	{"globalin", "it can read a table without the tenant guard: use the IN operator"},
	{"notin", "it can read a table without the tenant guard: use NOT IN with a list or subquery"},
	{"hascolumnintable", "it reads the catalog"},
	{"sleep", "it only wastes the shared engine's time"},
	{"throwif", "it is not an analytics function"},
}

// functionIndex maps lower-cased names to their canonical spelling and
// family.
type functionIndex map[string]struct{ name, family string }

func newFunctionIndex() functionIndex {
	idx := functionIndex{}
	for fam, names := range functionFamilies {
		for _, n := range names {
			idx[strings.ToLower(n)] = struct{ name, family string }{n, fam}
		}
	}
	return idx
}

// resolve returns the canonical spelling of name (case-insensitive) and
// its family, with aggregate combinators resolved against their base.
func (idx functionIndex) resolve(name string) (string, string, bool) {
	if f, ok := idx[strings.ToLower(name)]; ok {
		return f.name, f.family, true
	}
	for _, suf := range aggregateCombinators {
		if len(name) > len(suf) && strings.EqualFold(name[len(name)-len(suf):], suf) {
			base, fam, ok := idx.resolve(name[:len(name)-len(suf)])
			if ok && fam == "aggregate" {
				return base + suf, fam, true
			}
		}
	}
	return "", "", false
}

// refusal explains why name is not allowed.
func refusal(name string) string {
	lower := strings.ToLower(name)
	for _, r := range refusalReasons {
		if lower == r.prefix || len(r.prefix) > 3 && strings.HasPrefix(lower, r.prefix) {
			return "function " + name + " is not allowed: " + r.reason
		}
	}
	return "function " + name + " is not allowed: ad-hoc queries may call the listed aggregate, window, date/time, math, string, array, JSON, conditional and type conversion functions"
}
