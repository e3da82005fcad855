"""A labelled set of free-text addresses (Ezhou and the rest of the country) with their components.

Each entry is (text, fields); every field not named is expected to be None.
"""

from __future__ import annotations

HB, EZ = "湖北省", "鄂州市"
EZ_ = {"province": HB, "city": EZ}

LABELLED: list[tuple[str, dict[str, str]]] = [
    (
        "湖北省鄂州市鄂城区凤凰街道滨湖社区滨湖南路28-3号3栋2单元501室",
        {
            **EZ_,
            "district": "鄂城区",
            "township": "凤凰街道",
            "community": "滨湖社区",
            "road": "滨湖南路",
            "number": "28-3",
            "building": "3",
            "unit": "2",
            "room": "501",
        },
    ),
    (
        "鄂州市华容区葛店镇王家村3组12号",
        {
            **EZ_,
            "district": "华容区",
            "township": "葛店镇",
            "community": "王家村",
            "village_group": "3组",
            "number": "12",
        },
    ),
    (
        "武汉市江岸区大智街道解放大道1127号",
        {
            "province": HB,
            "city": "武汉市",
            "district": "江岸区",
            "township": "大智街道",
            "road": "解放大道",
            "number": "1127",
        },
    ),
    (
        "北京市朝阳区建国路88号SOHO现代城A座1205室",
        {
            "province": "北京市",
            "city": "北京市",
            "district": "朝阳区",
            "road": "建国路",
            "number": "88",
            "poi": "SOHO现代城",
            "building": "A",
            "room": "1205",
        },
    ),
    ("湖北鄂州古楼街道洋澜路１２号附2", {**EZ_, "township": "古楼街道", "road": "洋澜路", "number": "12附2"}),
    (
        "广西南宁市青秀区民族大道100号",
        {
            "province": "广西壮族自治区",
            "city": "南宁市",
            "district": "青秀区",
            "road": "民族大道",
            "number": "100",
        },
    ),
    (
        "鄂州市鄂城区滨湖南路12号三栋二单元502室",
        {
            **EZ_,
            "district": "鄂城区",
            "road": "滨湖南路",
            "number": "12",
            "building": "3",
            "unit": "2",
            "room": "502",
        },
    ),
    (
        "鄂州鄂城区古楼街道寿昌大道88附2号",
        {**EZ_, "district": "鄂城区", "township": "古楼街道", "road": "寿昌大道", "number": "88附2"},
    ),
    ("鄂城区洋澜路12号之一", {**EZ_, "district": "鄂城区", "road": "洋澜路", "number": "12-1"}),
    (
        "鄂州市鄂城区吴都花园5栋3单元302",
        {**EZ_, "district": "鄂城区", "poi": "吴都花园", "building": "5", "unit": "3", "room": "302"},
    ),
    (
        "鄂州市梁子湖区太和镇太和村5组",
        {**EZ_, "district": "梁子湖区", "township": "太和镇", "community": "太和村", "village_group": "5组"},
    ),
    (
        "湖北省鄂州市梁子湖区涂家垴镇涂家垴村第三村民小组8号",
        {
            **EZ_,
            "district": "梁子湖区",
            "township": "涂家垴镇",
            "community": "涂家垴村",
            "village_group": "3组",
            "number": "8",
        },
    ),
    (
        "鄂州市华容区段店镇段店村七组",
        {**EZ_, "district": "华容区", "township": "段店镇", "community": "段店村", "village_group": "7组"},
    ),
    (
        "湖北省鄂州市鄂城区西山街道莲花社区莲花路３号",
        {
            **EZ_,
            "district": "鄂城区",
            "township": "西山街道",
            "community": "莲花社区",
            "road": "莲花路",
            "number": "3",
        },
    ),
    (
        "鄂州市鄂城区 樊口街道 樊川大道 66號",
        {**EZ_, "district": "鄂城区", "township": "樊口街道", "road": "樊川大道", "number": "66"},
    ),
    ("鄂州市鄂城区文星路甲12号", {**EZ_, "district": "鄂城区", "road": "文星路", "number": "甲12"}),
    (
        "鄂州市鄂城区南浦路16附1号2栋1单元201室",
        {
            **EZ_,
            "district": "鄂城区",
            "road": "南浦路",
            "number": "16附1",
            "building": "2",
            "unit": "1",
            "room": "201",
        },
    ),
    (
        "鄂城区凤凰街道寒溪路38号3号楼4单元6楼602",
        {
            **EZ_,
            "district": "鄂城区",
            "township": "凤凰街道",
            "road": "寒溪路",
            "number": "38",
            "building": "3",
            "unit": "4",
            "floor": "6",
            "room": "602",
        },
    ),
    (
        "鄂州市鄂城区古楼街道古楼社区居委会",
        {**EZ_, "district": "鄂城区", "township": "古楼街道", "community": "古楼社区居委会"},
    ),
    (
        "鄂州市华容区华容镇龙王村委会",
        {**EZ_, "district": "华容区", "township": "华容镇", "community": "龙王村委会"},
    ),
    ("湖北省鄂州市鄂城区鄂州宾馆", {**EZ_, "district": "鄂城区", "poi": "鄂州宾馆"}),
    ("鄂州市滨湖南路２８－３号", {**EZ_, "road": "滨湖南路", "number": "28-3"}),
    (
        "鄂州市鄂城区吴都中路21号3-2-501",
        {
            **EZ_,
            "district": "鄂城区",
            "road": "吴都中路",
            "number": "21",
            "building": "3",
            "unit": "2",
            "room": "501",
        },
    ),
    ("鄂州市鄂城区武昌大道298号", {**EZ_, "district": "鄂城区", "road": "武昌大道", "number": "298"}),
    (
        "鄂州市鄂城区明塘路5号明塘小区2幢1单元101室",
        {
            **EZ_,
            "district": "鄂城区",
            "road": "明塘路",
            "number": "5",
            "poi": "明塘小区",
            "building": "2",
            "unit": "1",
            "room": "101",
        },
    ),
    ("鄂州市葛店开发区创业大道18号", {**EZ_, "township": "葛店开发区", "road": "创业大道", "number": "18"}),
    (
        "湖北省鄂州市鄂城区杜山镇东港村2组",
        {**EZ_, "district": "鄂城区", "township": "杜山镇", "community": "东港村", "village_group": "2组"},
    ),
    (
        "鄂州市鄂城区泽林镇泽林社区泽林大街9号",
        {
            **EZ_,
            "district": "鄂城区",
            "township": "泽林镇",
            "community": "泽林社区",
            "road": "泽林大街",
            "number": "9",
        },
    ),
    ("鄂州市鄂城区沙窝乡沙窝村", {**EZ_, "district": "鄂城区", "township": "沙窝乡", "community": "沙窝村"}),
    (
        "鄂州市鄂城区花湖镇花湖大道１０２号",
        {**EZ_, "district": "鄂城区", "township": "花湖镇", "road": "花湖大道", "number": "102"},
    ),
    (
        "鄂州 鄂城区 凤凰街道 滨湖南路 28号 3栋",
        {
            **EZ_,
            "district": "鄂城区",
            "township": "凤凰街道",
            "road": "滨湖南路",
            "number": "28",
            "building": "3",
        },
    ),
    ("武汉市江汉路118号", {"province": HB, "city": "武汉市", "road": "江汉路", "number": "118"}),
    (
        "武汉市洪山区珞喻路1037号华中科技大学",
        {
            "province": HB,
            "city": "武汉市",
            "district": "洪山区",
            "road": "珞喻路",
            "number": "1037",
            "poi": "华中科技大学",
        },
    ),
    (
        "湖北省武汉市武昌区中南路7号中商广场A座15楼",
        {
            "province": HB,
            "city": "武汉市",
            "district": "武昌区",
            "road": "中南路",
            "number": "7",
            "poi": "中商广场",
            "building": "A",
            "floor": "15",
        },
    ),
    (
        "湖北省黄石市下陆区团城山街道杭州东路100号",
        {
            "province": HB,
            "city": "黄石市",
            "district": "下陆区",
            "township": "团城山街道",
            "road": "杭州东路",
            "number": "100",
        },
    ),
    (
        "湖北省大冶市东岳路街道新冶大道20号",
        {
            "province": HB,
            "city": "黄石市",
            "district": "大冶市",
            "township": "东岳路街道",
            "road": "新冶大道",
            "number": "20",
        },
    ),
    (
        "恩施州恩施市舞阳大街5号",
        {
            "province": HB,
            "city": "恩施土家族苗族自治州",
            "district": "恩施市",
            "road": "舞阳大街",
            "number": "5",
        },
    ),
    (
        "湖北省仙桃市干河街道钱沟路15号",
        {"province": HB, "city": "仙桃市", "township": "干河街道", "road": "钱沟路", "number": "15"},
    ),
    (
        "黄冈市黄州区东门路12号",
        {"province": HB, "city": "黄冈市", "district": "黄州区", "road": "东门路", "number": "12"},
    ),
    (
        "北京市海淀区中关村大街27号",
        {"province": "北京市", "city": "北京市", "district": "海淀区", "road": "中关村大街", "number": "27"},
    ),
    (
        "北京东城区南锣鼓巷8号",
        {"province": "北京市", "city": "北京市", "district": "东城区", "road": "南锣鼓巷", "number": "8"},
    ),
    (
        "北京市西城区西四北三条胡同3号",
        {
            "province": "北京市",
            "city": "北京市",
            "district": "西城区",
            "road": "西四北三条胡同",
            "number": "3",
        },
    ),
    (
        "上海市浦东新区世纪大道100号环球金融中心25楼",
        {
            "province": "上海市",
            "city": "上海市",
            "district": "浦东新区",
            "road": "世纪大道",
            "number": "100",
            "poi": "环球金融中心",
            "floor": "25",
        },
    ),
    (
        "上海黄浦区南京东路300号",
        {"province": "上海市", "city": "上海市", "district": "黄浦区", "road": "南京东路", "number": "300"},
    ),
    (
        "天津市和平区南京路219号",
        {"province": "天津市", "city": "天津市", "district": "和平区", "road": "南京路", "number": "219"},
    ),
    (
        "重庆市渝中区解放碑街道民权路28号",
        {
            "province": "重庆市",
            "city": "重庆市",
            "district": "渝中区",
            "township": "解放碑街道",
            "road": "民权路",
            "number": "28",
        },
    ),
    (
        "广东省广州市天河区天河路385号",
        {"province": "广东省", "city": "广州市", "district": "天河区", "road": "天河路", "number": "385"},
    ),
    (
        "广东省东莞市南城街道宏图路8号",
        {"province": "广东省", "city": "东莞市", "township": "南城街道", "road": "宏图路", "number": "8"},
    ),
    (
        "深圳市南山区科技园科苑路15号",
        {
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "poi": "科技园",
            "road": "科苑路",
            "number": "15",
        },
    ),
    (
        "浙江省杭州市西湖区文三路90号东部软件园2号楼",
        {
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "road": "文三路",
            "number": "90",
            "poi": "东部软件园",
            "building": "2",
        },
    ),
    (
        "江苏南京市鼓楼区中山北路30号",
        {"province": "江苏省", "city": "南京市", "district": "鼓楼区", "road": "中山北路", "number": "30"},
    ),
    (
        "四川省成都市武侯区人民南路四段1号",
        {
            "province": "四川省",
            "city": "成都市",
            "district": "武侯区",
            "road": "人民南路",
            "poi": "四段",
            "number": "1",
        },
    ),
    (
        "吉林省吉林市船营区北京路1号",
        {"province": "吉林省", "city": "吉林市", "district": "船营区", "road": "北京路", "number": "1"},
    ),
    (
        "新疆乌鲁木齐市天山区解放南路50号",
        {
            "province": "新疆维吾尔自治区",
            "city": "乌鲁木齐市",
            "district": "天山区",
            "road": "解放南路",
            "number": "50",
        },
    ),
    (
        "内蒙古呼和浩特市新城区新华大街1号",
        {
            "province": "内蒙古自治区",
            "city": "呼和浩特市",
            "district": "新城区",
            "road": "新华大街",
            "number": "1",
        },
    ),
    (
        "宁夏银川市兴庆区解放西街2号",
        {
            "province": "宁夏回族自治区",
            "city": "银川市",
            "district": "兴庆区",
            "road": "解放西街",
            "number": "2",
        },
    ),
    (
        "西藏拉萨市城关区北京中路48号",
        {
            "province": "西藏自治区",
            "city": "拉萨市",
            "district": "城关区",
            "road": "北京中路",
            "number": "48",
        },
    ),
    (
        "湖南省长沙市岳麓区麓山南路932号",
        {"province": "湖南省", "city": "长沙市", "district": "岳麓区", "road": "麓山南路", "number": "932"},
    ),
    (
        "河南省郑州市金水区花园路１３９号",
        {"province": "河南省", "city": "郑州市", "district": "金水区", "road": "花园路", "number": "139"},
    ),
    (
        "山东省青岛市市南区湖北路9号",
        {"province": "山东省", "city": "青岛市", "district": "市南区", "road": "湖北路", "number": "9"},
    ),
    (
        "陕西省西安市雁塔区长安南路199号3栋2单元1801室",
        {
            "province": "陕西省",
            "city": "西安市",
            "district": "雁塔区",
            "road": "长安南路",
            "number": "199",
            "building": "3",
            "unit": "2",
            "room": "1801",
        },
    ),
    (
        "福建厦门思明区鹭江道8号",
        {"province": "福建省", "city": "厦门市", "district": "思明区", "road": "鹭江道", "number": "8"},
    ),
    (
        "延边州延吉市光明街100号",
        {
            "province": "吉林省",
            "city": "延边朝鲜族自治州",
            "district": "延吉市",
            "road": "光明街",
            "number": "100",
        },
    ),
    (
        "云南省昆明市五华区翠湖南路2号",
        {"province": "云南省", "city": "昆明市", "district": "五华区", "road": "翠湖南路", "number": "2"},
    ),
    (
        "黑龙江哈尔滨市南岗区西大直街92号",
        {
            "province": "黑龙江省",
            "city": "哈尔滨市",
            "district": "南岗区",
            "road": "西大直街",
            "number": "92",
        },
    ),
    (
        "武汉市武昌区友谊大道５０８号十栋三单元四楼４０２",
        {
            "province": HB,
            "city": "武汉市",
            "district": "武昌区",
            "road": "友谊大道",
            "number": "508",
            "building": "10",
            "unit": "3",
            "floor": "4",
            "room": "402",
        },
    ),
    (
        "海南省海口市龙华区滨海大道77号",
        {"province": "海南省", "city": "海口市", "district": "龙华区", "road": "滨海大道", "number": "77"},
    ),
    ("中国湖北省鄂州市鄂城区滨湖南路28号", {**EZ_, "district": "鄂城区", "road": "滨湖南路", "number": "28"}),
    ("香港特别行政区", {"province": "香港特别行政区", "city": "香港特别行政区"}),
    ("滨湖南路28号", {"road": "滨湖南路", "number": "28"}),
]
