"""Word lists for the synthetic city: surnames, given-name characters, company names, labs.

All invented: the companies are combinations of common trade-name words, not real firms; the
labs only follow the naming style of the third-party labs that tested 长春 in April 2022.
"""

from __future__ import annotations


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _weighted(text: str) -> tuple[tuple[str, int], ...]:
    """Parse "王95 李90" into (("王", 95), ("李", 90))."""
    words = _split(text)
    return tuple((w.rstrip("0123456789"), int(w[len(w.rstrip("0123456789")) :])) for w in words)


# The most common surnames with rough weights (per mille) in 吉林省.
SURNAMES = _weighted(
    "王95 李90 张85 刘70 陈40 杨35 赵33 黄18 周20 吴17 徐18 孙28 胡14 朱13 高17 "
    "林10 何9 郭14 马16 罗7 梁9 宋12 郑10 谢8 韩13 唐8 冯10 于20 董11 萧2 程7 曹8 "
    "袁6 邓5 许8 傅4 沈6 曾3 彭5 吕7 苏7 卢6 蒋5 蔡5 贾7 丁6 魏8 薛5 叶4 阎4 余4 潘5 "
    "杜6 戴4 夏4 钟3 汪3 田7 任6 姜10 范5 方4 石6 姚4 谭3 廖2 邹3 熊2 金9 陆3 郝5 孔3 "
    "白6 崔8 康4 毛3 邱3 秦4 江3 史4 顾3 侯5 邵3 孟6 龙2 万3 段3 雷2 钱3 汤3 尹4 黎1 "
    "易2 常5 武5 乔4 贺3 赖1 龚2 文3 庞3 樊3 兰2 殷2 施2 陶3 洪2 翟3 安4 颜2 倪2 严3 "
    "牛4 温3 芦2 季2 俞1 章2 鲁3 葛3 伍1 韦1 申2 尤2 毕3 聂2 丛3 焦3 向1 柳2 邢3 路3 "
    "岳3 齐4 沙1 梅2 莫1 庄2 辛3 管2 祝2 左2 涂1 谷3 祁2 时2 舒1 耿3 牟2 卜2 詹1 关5 "
    "苗3 凌2 费2 纪3 靳2 盛2 童2 欧阳1 单2 衣2 隋3 佟3 那2 刁1 宫3 "
)

# Characters of given names, roughly by how often they are chosen for boys, girls, or both.
GIVEN_MALE = tuple(
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发"
    "武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心"
    "邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦"
    "翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘宇轩睿"
)
GIVEN_FEMALE = tuple(
    "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞"
    "香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁"
    "蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢"
    "馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
)
GIVEN_EITHER = tuple("文明晓春海丽建国红军平志东小晨子一天新宇佳欣雨思博浩然")

# Trade-name words, industries and legal forms for employers (长春XX汽车零部件有限公司).
BRAND_WORDS = _split(
    "华誉 恒通 金诚 鼎盛 宏达 瑞丰 博远 汇智 信达 盛世 天成 宏图 东方 北方 长城 远航 "
    "亚泰 奥通 福瑞 吉顺 凯达 众合 联创 泰和 荣昌 新锐 正阳 中源 广源 万通 隆兴 康泰 "
    "嘉禾 德隆 永信 振华 安平 同力 兴业 海川 天元 恒星 银河 金鼎 昊天 伟业 巨龙 合力 "
    "北辰 星光 华腾 润丰 卓越 中天 佳和 明德 大成 宝丰 鸿运 富华 锦程 金桥 新兴 立信 "
    "东升 祥瑞 宏远 正大 三江 松原 长白 净月 南湖 伊通 春城 一心 四通 同创 思源 睿智"
)
INDUSTRIES = _split(
    "汽车零部件 汽车零部件 汽车零部件 汽车部件 机械制造 模具 精密机械 物流 商贸 食品 粮油 "
    "医药 生物制药 建筑工程 建材 装饰工程 物业服务 餐饮管理 软件科技 信息技术 光电科技 "
    "电子 印务 包装 农业科技 环保科技 热力 商砼 服装 家具"
)
LEGAL_FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司")
PLACE_PREFIXES = ("长春", "长春", "长春市", "吉林省", "吉林")

# Testing labs (第三方医学检验所 and public labs), in the style of those that tested 长春.
LABS = (
    "长春金域医学检验所",
    "长春迪安医学检验所",
    "长春华大医学检验所",
    "吉林省疾病预防控制中心实验室",
    "长春市疾病预防控制中心实验室",
    "长春艾迪康医学检验实验室",
)

PRESENCE_SOURCES = ("通信行程大数据", "场所码扫码记录")
