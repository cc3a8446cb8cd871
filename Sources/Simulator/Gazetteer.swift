/// The simulated city: 岳阳市 (Yueyang, Hunan; administrative division 4306xx), its districts,
/// courts and authorities, and the vocabulary of enterprise and person names.
enum Gazetteer {
    static let cityName = "岳阳市"
    static let cityShort = "岳阳"
    /// Vehicle plate prefix of the city.
    static let platePrefix = "湘F"
    static let intermediateCourt = "岳阳市中级人民法院"
    static let intermediateCourtCode = "湘06"
    static let cityMarketAuthority = "岳阳市市场监督管理局"

    struct District {
        let code: String
        /// `岳阳楼区`, `华容县`.
        let name: String
        /// Name with the city for urban districts (`岳阳市岳阳楼区`), the county's own name otherwise.
        let fullName: String
        /// The county-level prefix used in enterprise names (`华容县`), nil for urban districts.
        let namePrefix: String?
        let weight: Double
        let roads: [String]

        var court: String { fullName + "人民法院" }
        /// The court's code in case numbers: `湘` and the last four digits of the division code.
        var courtCode: String { "湘" + String(code.suffix(4)) }
        var marketAuthority: String { fullName + "市场监督管理局" }
    }

    static let districts: [District] = [
        District(
            code: "430602", name: "岳阳楼区", fullName: "岳阳市岳阳楼区", namePrefix: nil, weight: 30,
            roads: ["巴陵中路", "建湘路", "金鹗中路", "南湖大道", "洞庭南路", "青年中路", "东茅岭路", "五里牌路", "八字门路", "学院路"]),
        District(
            code: "430603", name: "云溪区", fullName: "岳阳市云溪区", namePrefix: nil, weight: 7,
            roads: ["云溪大道", "长岭路", "陆城大道", "松杨湖路"]),
        District(
            code: "430611", name: "君山区", fullName: "岳阳市君山区", namePrefix: nil, weight: 6,
            roads: ["君山大道", "柳林洲路", "许市路", "广兴洲路"]),
        District(
            code: "430621", name: "岳阳县", fullName: "岳阳县", namePrefix: "岳阳县", weight: 10,
            roads: ["荣家湾大道", "新墙路", "黄沙街路", "城关路"]),
        District(
            code: "430623", name: "华容县", fullName: "华容县", namePrefix: "华容县", weight: 10,
            roads: ["章华大道", "华容大道", "桃花山路", "沿河路"]),
        District(
            code: "430624", name: "湘阴县", fullName: "湘阴县", namePrefix: "湘阴县", weight: 9,
            roads: ["文星大道", "湘滨路", "洋沙湖大道", "金龙大道"]),
        District(
            code: "430626", name: "平江县", fullName: "平江县", namePrefix: "平江县", weight: 9,
            roads: ["天岳大道", "汉昌路", "瓮江路", "启明大道"]),
        District(
            code: "430681", name: "汨罗市", fullName: "汨罗市", namePrefix: "汨罗市", weight: 12,
            roads: ["归义路", "屈原大道", "罗城路", "高泉路"]),
    ]

    /// Birthplaces of people who moved to the city (other Hunan cities and neighbouring provinces).
    static let outsideAddressCodes = [
        "430102", "430202", "430302", "430502", "430702", "430902", "431002", "420106", "420621", "360102", "440306",
        "421002",
    ]

    /// How an industry's enterprises behave economically.
    struct Profile {
        /// ln of a typical monthly revenue in yuan, and its spread.
        let revenueMu: Double
        let revenueSigma: Double
        /// Monthly revenue per employee (yuan).
        let revenuePerEmployee: Double
        /// Effective VAT as a share of revenue for a general taxpayer.
        let vatRate: Double
        /// Typical profit margin.
        let margin: Double
        /// Water use in m³ per 10,000 yuan revenue.
        let waterIntensity: Double
        /// Revenue multiplier by calendar month (January first).
        let season: [Double]
    }

    static let manufacturing = Profile(
        revenueMu: 14.6, revenueSigma: 1.1, revenuePerEmployee: 70_000, vatRate: 0.028, margin: 0.06,
        waterIntensity: 1.2, season: [0.88, 0.70, 1.00, 1.00, 1.02, 1.05, 1.00, 1.00, 1.05, 1.03, 1.06, 1.21])
    static let construction = Profile(
        revenueMu: 14.8, revenueSigma: 1.2, revenuePerEmployee: 90_000, vatRate: 0.02, margin: 0.05,
        waterIntensity: 0.5, season: [0.72, 0.52, 0.92, 1.05, 1.10, 1.05, 0.95, 0.95, 1.05, 1.10, 1.16, 1.43])
    static let wholesale = Profile(
        revenueMu: 14.0, revenueSigma: 1.2, revenuePerEmployee: 160_000, vatRate: 0.012, margin: 0.03,
        waterIntensity: 0.08, season: [1.10, 0.80, 0.95, 0.98, 1.00, 1.00, 0.97, 0.97, 1.02, 1.04, 1.05, 1.12])
    static let retail = Profile(
        revenueMu: 13.1, revenueSigma: 1.0, revenuePerEmployee: 55_000, vatRate: 0.015, margin: 0.04,
        waterIntensity: 0.3, season: [1.25, 1.05, 0.90, 0.90, 0.95, 0.95, 0.90, 0.90, 0.95, 1.10, 1.10, 1.15])
    static let transport = Profile(
        revenueMu: 13.6, revenueSigma: 1.0, revenuePerEmployee: 60_000, vatRate: 0.02, margin: 0.05,
        waterIntensity: 0.3, season: [1.00, 0.75, 0.95, 1.00, 1.02, 1.02, 1.00, 1.00, 1.03, 1.05, 1.06, 1.12])
    static let hospitality = Profile(
        revenueMu: 12.9, revenueSigma: 0.9, revenuePerEmployee: 25_000, vatRate: 0.025, margin: 0.06,
        waterIntensity: 2.0, season: [1.00, 1.15, 0.85, 0.90, 1.05, 0.95, 1.15, 1.20, 0.95, 1.15, 0.85, 0.90])
    static let services = Profile(
        revenueMu: 12.7, revenueSigma: 1.0, revenuePerEmployee: 40_000, vatRate: 0.03, margin: 0.10,
        waterIntensity: 0.15, season: [0.95, 0.80, 0.98, 1.00, 1.00, 1.02, 1.00, 0.98, 1.02, 1.00, 1.03, 1.22])
    static let realEstate = Profile(
        revenueMu: 15.2, revenueSigma: 1.4, revenuePerEmployee: 300_000, vatRate: 0.04, margin: 0.08,
        waterIntensity: 0.05, season: [0.85, 0.65, 0.95, 1.00, 1.05, 1.10, 0.95, 0.95, 1.10, 1.15, 1.00, 1.25])
    static let agriculture = Profile(
        revenueMu: 12.9, revenueSigma: 0.9, revenuePerEmployee: 35_000, vatRate: 0.0, margin: 0.05,
        waterIntensity: 1.5, season: [0.60, 0.60, 0.80, 0.90, 1.00, 1.00, 1.10, 1.20, 1.40, 1.40, 1.10, 0.90])
    static let utility = Profile(
        revenueMu: 15.0, revenueSigma: 0.8, revenuePerEmployee: 120_000, vatRate: 0.04, margin: 0.07,
        waterIntensity: 0.6, season: [1.10, 1.00, 0.95, 0.92, 0.95, 1.05, 1.15, 1.15, 1.00, 0.92, 0.92, 1.05])

    struct Industry {
        /// `C17`.
        let division: String
        let weight: Double
        let profile: Profile
        /// Water intensity overriding the profile's (water-heavy divisions).
        let waterIntensity: Double?
        /// (class code, industry word used in names).
        let classes: [(code: String, word: String)]

        var section: Character { division.first! }
    }

    private static func industry(
        _ division: String, _ weight: Double, _ profile: Profile, water: Double? = nil, _ classes: [(String, String)]
    ) -> Industry {
        Industry(
            division: division, weight: weight, profile: profile, waterIntensity: water,
            classes: classes.map { (code: $0.0, word: $0.1) })
    }

    /// GB/T 4754-2017 divisions present in the city, weighted by how many enterprises they hold.
    static let industries: [Industry] = [
        industry("A01", 1.5, agriculture, [("A0111", "农业开发"), ("A0141", "生态农业"), ("A0164", "茶业")]),
        industry("A04", 1.0, agriculture, water: 3, [("A0412", "水产"), ("A0412", "渔业")]),
        industry("B10", 0.6, manufacturing, [("B1011", "矿业"), ("B1019", "石业")]),
        industry(
            "C13", 2.2, manufacturing, water: 4, [("C1310", "粮油"), ("C1310", "米业"), ("C1320", "饲料"), ("C1351", "食品")]),
        industry("C14", 1.2, manufacturing, water: 4, [("C1419", "食品"), ("C1469", "调味食品")]),
        industry("C15", 0.8, manufacturing, water: 3, [("C1512", "酒业"), ("C1530", "茶业")]),
        industry(
            "C17", 2.6, manufacturing, water: 8,
            [("C1711", "纺织"), ("C1711", "棉纺"), ("C1713", "印染"), ("C1751", "织造"), ("C1761", "针织")]),
        industry("C18", 1.2, manufacturing, water: 1, [("C1811", "服饰"), ("C1811", "制衣"), ("C1819", "服装")]),
        industry("C19", 0.5, manufacturing, [("C1952", "鞋业")]),
        industry("C20", 0.6, manufacturing, [("C2021", "木业")]),
        industry("C21", 0.8, manufacturing, [("C2110", "家具")]),
        industry("C22", 1.2, manufacturing, water: 15, [("C2221", "纸业"), ("C2231", "包装")]),
        industry("C23", 0.6, manufacturing, [("C2319", "印务"), ("C2319", "彩印")]),
        industry("C25", 0.3, manufacturing, water: 6, [("C2511", "石化")]),
        industry(
            "C26", 1.5, manufacturing, water: 5, [("C2614", "化工"), ("C2631", "农化"), ("C2641", "涂料"), ("C2614", "新材料")]),
        industry("C27", 0.6, manufacturing, water: 4, [("C2720", "制药"), ("C2740", "药业")]),
        industry("C29", 1.0, manufacturing, water: 1.5, [("C2922", "塑业"), ("C2927", "橡塑")]),
        industry(
            "C30", 1.6, manufacturing, water: 2, [("C3011", "水泥"), ("C3021", "建材"), ("C3031", "新型墙材"), ("C3061", "玻纤")]),
        industry("C31", 0.3, manufacturing, water: 3, [("C3120", "钢铁")]),
        industry("C32", 0.4, manufacturing, water: 3, [("C3211", "有色金属"), ("C3212", "冶炼")]),
        industry(
            "C33", 1.8, manufacturing, water: 1.5,
            [("C3311", "钢构"), ("C3312", "门窗"), ("C3351", "五金"), ("C3381", "金属制品")]),
        industry("C34", 1.4, manufacturing, [("C3441", "泵业"), ("C3484", "机械")]),
        industry("C35", 1.0, manufacturing, [("C3511", "重工"), ("C3514", "机械装备")]),
        industry("C36", 0.7, manufacturing, [("C3670", "汽车零部件"), ("C3670", "汽配")]),
        industry("C38", 1.2, manufacturing, [("C3831", "电缆"), ("C3841", "新能源"), ("C3872", "照明电器")]),
        industry("C39", 0.8, manufacturing, water: 2, [("C3982", "电子")]),
        industry("C41", 0.3, manufacturing, [("C4190", "工艺品")]),
        industry("D44", 0.4, utility, [("D4411", "电力"), ("D4415", "风电")]),
        industry("D46", 0.2, utility, water: 20, [("D4610", "水务")]),
        industry("E47", 4.0, construction, [("E4710", "建设"), ("E4710", "建筑工程"), ("E4710", "建工")]),
        industry("E48", 2.0, construction, [("E4812", "路桥"), ("E4813", "市政工程")]),
        industry("E49", 1.2, construction, [("E4910", "机电安装")]),
        industry("E50", 2.2, construction, [("E5011", "装饰工程"), ("E5012", "装饰")]),
        industry(
            "F51", 12.0, wholesale,
            [
                ("F5111", "农产品贸易"), ("F5121", "粮油贸易"), ("F5127", "酒业贸易"), ("F5162", "石油贸易"), ("F5165", "建材贸易"),
                ("F5174", "五金贸易"), ("F5176", "电脑贸易"), ("F5191", "商贸"), ("F5191", "贸易"), ("F5191", "实业"),
            ]),
        industry(
            "F52", 10.0, retail,
            [
                ("F5211", "百货"), ("F5212", "超市"), ("F5251", "大药房"), ("F5261", "汽车销售"), ("F5265", "加油站"),
                ("F5271", "家电"), ("F5292", "商行"),
            ]),
        industry("G54", 4.0, transport, [("G5431", "物流"), ("G5431", "运输"), ("G5431", "货运")]),
        industry("G55", 0.8, transport, [("G5522", "航运"), ("G5532", "港务")]),
        industry("G58", 0.8, transport, [("G5821", "货运代理")]),
        industry("G59", 0.6, transport, [("G5920", "仓储")]),
        industry("G60", 0.4, transport, [("G6020", "快递")]),
        industry("H61", 2.0, hospitality, [("H6110", "酒店"), ("H6121", "宾馆")]),
        industry("H62", 3.0, hospitality, [("H6210", "餐饮"), ("H6210", "酒家"), ("H6220", "餐饮管理")]),
        industry("I64", 1.0, services, [("I6432", "网络科技")]),
        industry("I65", 3.5, services, [("I6513", "信息技术"), ("I6513", "软件"), ("I6531", "智能科技"), ("I6531", "科技")]),
        industry("K70", 4.5, realEstate, [("K7010", "置业"), ("K7010", "房地产开发"), ("K7020", "物业管理"), ("K7030", "房产经纪")]),
        industry("L71", 0.8, services, [("L7111", "汽车租赁"), ("L7119", "设备租赁")]),
        industry(
            "L72", 8.0, services,
            [
                ("L7211", "实业集团"), ("L7212", "投资"), ("L7221", "企业管理"), ("L7251", "广告传媒"), ("L7281", "会展"),
                ("L7299", "商务服务"),
            ]),
        industry("M74", 2.5, services, [("M7481", "工程咨询"), ("M7483", "勘察设计"), ("M7452", "检测")]),
        industry("M75", 1.5, services, [("M7511", "生物科技"), ("M7511", "农业科技")]),
        industry("N77", 1.0, services, water: 1, [("N7721", "环保"), ("N7723", "环境科技")]),
        industry("N78", 0.8, services, [("N7820", "环卫"), ("N7850", "园林")]),
        industry("O80", 1.0, services, water: 1, [("O8010", "家政服务"), ("O8052", "洗涤")]),
        industry("P83", 1.2, services, [("P8391", "职业培训"), ("P8399", "教育咨询")]),
        industry("Q84", 0.5, hospitality, water: 2, [("Q8415", "口腔医院"), ("Q8411", "医院")]),
        industry("R87", 1.0, services, [("R8730", "文化传媒"), ("R8730", "影视传媒")]),
        industry("R89", 0.5, services, [("R8930", "健身")]),
    ]

    static func industryIndex(division: String) -> Int? { industries.firstIndex { $0.division == division } }

    /// Trade names (字号) special to the city.
    static let localTradeNames = [
        "巴陵", "洞庭", "君山", "岳州", "金鹗", "南湖", "湘北", "汴河", "楼台", "东风", "团湖", "芭蕉", "白鹤", "天岳", "幕阜",
        "汨水", "章华", "洋沙", "屈原", "黄梅",
    ]
    static let tradeFirst = Array("华恒鑫宏盛天中长永泰瑞鼎德金汇顺博新丰嘉荣隆万兴正富佳信明益绿湘九龙凯联创远通安康诚宇贝凌铭骏卓")
    static let tradeSecond = Array("达源发泰成联盛丰和昌鑫通华信德润诚远辉祥利兴宇航峰邦凯瑞翔晟锦腾泽力美新捷跃邦")

    static let surnames: [(String, Double)] = [
        ("李", 7.9), ("王", 7.4), ("张", 7.1), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.2), ("赵", 2.0), ("周", 1.9),
        ("吴", 1.8), ("徐", 1.6), ("孙", 1.5), ("胡", 1.3), ("朱", 1.2), ("高", 1.2), ("林", 1.1), ("何", 1.2), ("郭", 1.1),
        ("马", 1.0), ("罗", 1.1), ("彭", 1.3), ("谭", 1.2), ("易", 0.8), ("邓", 1.0), ("曾", 0.9), ("方", 0.5), ("姚", 0.5),
        ("毛", 0.5), ("袁", 0.6), ("戴", 0.5), ("蒋", 0.6), ("廖", 0.6), ("付", 0.5), ("钟", 0.5), ("汤", 0.4), ("任", 0.4),
        ("欧阳", 0.2), ("司马", 0.05),
    ]
    static let givenMale = Array("伟强磊军洋勇杰涛明超刚平辉鹏华斌建国志文亮峰波宇浩凯俊勤力坚晖")
    static let givenFemale = Array("芳娜敏静丽艳娟霞秀英红玉兰燕萍琴婷雪梅莉慧颖洁琳蓉佳")

    static let vehicleTypesPerson = ["小型轿车", "小型轿车", "小型轿车", "小型普通客车", "小型越野客车", "普通二轮摩托车"]
    static let vehicleTypesEnterprise = ["小型轿车", "小型普通客车", "轻型厢式货车", "中型普通客车", "重型半挂牵引车", "重型仓栅式货车"]
    static let vehicleTypesTransport = ["重型半挂牵引车", "重型仓栅式货车", "重型厢式货车", "轻型厢式货车", "重型自卸货车"]

    static let penaltyCategories: [(category: String, fineLow: Double, fineHigh: Double)] = [
        ("产品质量", 5_000, 80_000), ("食品安全", 5_000, 100_000), ("价格违法", 2_000, 50_000), ("虚假广告", 10_000, 200_000),
        ("计量违法", 1_000, 20_000), ("特种设备安全", 10_000, 100_000), ("商标侵权", 5_000, 150_000), ("无照经营", 1_000, 10_000),
        ("不正当竞争", 10_000, 300_000), ("登记违法", 1_000, 30_000),
    ]

    static let abnormalReasonAnnualReport = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"
    static let abnormalReasonUnreachable = "通过登记的住所或者经营场所无法联系"
    static let abnormalReasonFalseInfo = "公示企业信息隐瞒真实情况、弄虚作假"
}
