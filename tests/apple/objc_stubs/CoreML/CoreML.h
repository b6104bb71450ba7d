// Stand-ins for the Core ML declarations objc/ uses (syntax checking on Linux only).
#pragma once
#import <Foundation/Foundation.h>
typedef enum { MLComputeUnitsCPUAndNeuralEngine = 3 } MLComputeUnits;
typedef enum { MLMultiArrayDataTypeFloat16 = 65552 } MLMultiArrayDataType;
@interface MLMultiArray : NSObject
- (instancetype)initWithDataPointer:(void*)dataPointer shape:(NSArray<NSNumber*>*)shape dataType:(MLMultiArrayDataType)dataType strides:(NSArray<NSNumber*>*)strides deallocator:(void (^)(void* bytes))deallocator error:(NSError**)error;
@property(readonly) NSArray<NSNumber*>* shape;
@property(readonly) NSArray<NSNumber*>* strides;
- (void)getBytesWithHandler:(void (^)(const void* bytes, NSInteger size))handler;
- (void)getMutableBytesWithHandler:(void (^)(void* mutableBytes, NSInteger size, NSArray<NSNumber*>* strides))handler;
@end
@interface MLFeatureValue : NSObject
+ (instancetype)featureValueWithMultiArray:(MLMultiArray*)value;
@property(readonly) MLMultiArray* multiArrayValue;
@end
@protocol MLFeatureProvider
- (MLFeatureValue*)featureValueForName:(NSString*)featureName;
@end
@interface MLDictionaryFeatureProvider : NSObject <MLFeatureProvider>
- (instancetype)initWithDictionary:(NSDictionary<NSString*, id>*)dictionary error:(NSError**)error;
@end
@interface MLPredictionOptions : NSObject
@property(readwrite, copy) NSDictionary<NSString*, id>* outputBackings;
@end
@interface MLModelConfiguration : NSObject
@property(readwrite) MLComputeUnits computeUnits;
@end
@interface MLModel : NSObject
+ (NSURL*)compileModelAtURL:(NSURL*)modelURL error:(NSError**)error;
+ (instancetype)modelWithContentsOfURL:(NSURL*)url configuration:(MLModelConfiguration*)configuration error:(NSError**)error;
- (id<MLFeatureProvider>)predictionFromFeatures:(id<MLFeatureProvider>)input options:(MLPredictionOptions*)options error:(NSError**)error;
@end
@protocol MLComputeDeviceProtocol <NSObject>
@end
@interface MLNeuralEngineComputeDevice : NSObject <MLComputeDeviceProtocol>
@end
NSArray<id<MLComputeDeviceProtocol>>* MLAllComputeDevices(void);
